import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readQrTexts } from './test-kit/qr-text.js';
import { qrDataUrl, renderQrText, shouldPrintQr, terminalQrPrinter } from './qr-output.js';

// The shape of a QR Baileys shows: a wa.me link whose fragment is ref,noise,identity,adv,platform.
const WHATSAPP_QR =
  'https://wa.me/settings/linked_devices#2@yXgmEr6WxS75N742t0B4MGUK5zLw8LtfCVWZrYVp75Y=,LsEmYqH2oPWAA3vJmVhDZ16qeenx+K9e2eY/A176tjQ=,F1Rcx9Z4W/ceEwaM2mOLkskao11ed52m+f2YY1eH/Uw=,uskVW8wn+ZkyqYVu6o/oyvrZmCqijWXxEPXwQvYOJdQ=,1';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let printed = '';
  stream.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  return { stream, text: () => printed };
}

describe('QR output', () => {
  it('renders a QR as plain half-block lines that a QR decoder reads back', () => {
    const text = renderQrText(WHATSAPP_QR);
    const lines = text.split('\n');
    // No colour codes (a log file would keep them) and one rectangle of lines.
    expect(text).not.toContain('\u001b');
    expect(new Set(lines.map((line) => [...line].length)).size).toBe(1);
    // The light quiet zone: first line and each line's ends are full blocks.
    expect(lines[0]).toMatch(/^█+$/);
    expect(lines.every((line) => line.startsWith('██') && line.endsWith('██'))).toBe(true);
    // A QR of this length fits 80 columns behind pm2's "0|stickerbot-daemon | " prefix.
    expect([...(lines[0] ?? '')].length + '0|stickerbot-daemon | '.length).toBeLessThanOrEqual(80);
    expect(readQrTexts(`some log line\n${text}\nanother line\n`)).toEqual([WHATSAPP_QR]);
  });

  it('prints the QR with the session, expiry and where else to link, in one write', () => {
    const { stream, text } = capture();
    let writes = 0;
    stream.on('data', () => (writes += 1));
    const help = { dashboard: 'http://127.0.0.1:7420/dashboard/', tokenLocation: '/srv/stickerbot/data/token' };
    terminalQrPrinter(stream, () => help)('default', WHATSAPP_QR, Date.UTC(2026, 0, 1, 12, 30, 0));
    expect(writes).toBe(1);
    expect(text()).toContain('session "default"');
    expect(text()).toContain('valid until 12:30:00 UTC');
    expect(text()).toContain('http://127.0.0.1:7420/dashboard/ (admin token: /srv/stickerbot/data/token)');
    expect(text()).toContain('pnpm link:session default --phone <number>');
    expect(readQrTexts(text())).toEqual([WHATSAPP_QR]);
  });

  it('prints in auto mode on a terminal or a stderr of its own, not into the JSON log stream', () => {
    expect(shouldPrintQr('auto', { stderrIsTty: true, stderrIsStdout: true })).toBe(true);
    expect(shouldPrintQr('auto', { stderrIsTty: false, stderrIsStdout: false })).toBe(true);
    expect(shouldPrintQr('auto', { stderrIsTty: false, stderrIsStdout: true })).toBe(false);
    expect(shouldPrintQr('always', { stderrIsTty: false, stderrIsStdout: true })).toBe(true);
    expect(shouldPrintQr('never', { stderrIsTty: true, stderrIsStdout: false })).toBe(false);
  });

  it('renders a PNG data URL', async () => {
    const url = await qrDataUrl('2@abc,def,ghi');
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64').subarray(1, 4).toString()).toBe('PNG');
  });
});
