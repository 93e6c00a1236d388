import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { qrDataUrl, terminalQrPrinter } from './qr-output.js';

describe('QR output', () => {
  it('prints the QR as text blocks with the session and expiry', () => {
    const stream = new PassThrough();
    let printed = '';
    stream.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    terminalQrPrinter(stream)('default', '2@abc,def,ghi', Date.UTC(2026, 0, 1, 12, 30, 0));
    expect(printed).toContain('session "default"');
    expect(printed).toContain('valid until 12:30:00 UTC');
    expect(printed).toMatch(/[▄▀█]/);
  });

  it('renders a PNG data URL', async () => {
    const url = await qrDataUrl('2@abc,def,ghi');
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64').subarray(1, 4).toString()).toBe('PNG');
  });
});
