/**
 * Rendering a login QR: for the terminal (qrcode-terminal) and for dashboards (a PNG
 * `data:` URL from the qrcode package).
 */
import QRCode from 'qrcode';
import qrcodeTerminal from 'qrcode-terminal';

/** Prints a QR for an operator; receives the session id and the QR string. */
export type QrPrinter = (sessionId: string, qr: string, expiresAt: number) => void;

/**
 * The default printer: the QR as text blocks on stderr (stdout carries the JSON logs),
 * with the session id and the expiry.
 */
export function terminalQrPrinter(stream: NodeJS.WritableStream = process.stderr): QrPrinter {
  return (sessionId, qr, expiresAt) => {
    qrcodeTerminal.generate(qr, { small: true }, (rendered) => {
      const until = new Date(expiresAt).toISOString().slice(11, 19);
      stream.write(`\nWhatsApp login for session "${sessionId}": scan with WhatsApp > Linked devices (valid until ${until} UTC)\n${rendered}\n`);
    });
  };
}

/** A printer that prints nothing (tests, headless daemons that use the dashboard). */
export const silentQrPrinter: QrPrinter = () => undefined;

/** The QR as a PNG `data:` URL. */
export function qrDataUrl(qr: string): Promise<string> {
  return QRCode.toDataURL(qr, { errorCorrectionLevel: 'L', margin: 2, scale: 6 });
}
