import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SimProtocolError } from '../errors.js';

const run = promisify(execFile);

/** A throw-away CA and a leaf for 127.0.0.1/localhost, generated per emulator start. */
export interface TestTls {
  /** PEM of the test CA: the only thing a client must trust. */
  readonly ca: string;
  readonly key: string;
  readonly cert: string;
}

/**
 * Generates the media host's TLS material with the openssl CLI in a temp folder that is
 * removed afterwards. Valid for two days; the CA key never leaves this function.
 */
export async function createTestTls(): Promise<TestTls> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-sim-tls-'));
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run('openssl', [
      'req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2',
      '-subj', '/CN=wa-sim test CA (never trust outside tests)',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run('openssl', ['req', ...ec, '-keyout', file('leaf.key'), '-out', file('leaf.csr'), '-subj', '/CN=127.0.0.1']);
    await writeFile(
      file('leaf.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n',
    );
    await run('openssl', [
      'x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
      '-out', file('leaf.crt'), '-days', '2', '-extfile', file('leaf.ext'),
    ]);
    const [ca, key, cert] = await Promise.all([
      readFile(file('ca.crt'), 'utf8'),
      readFile(file('leaf.key'), 'utf8'),
      readFile(file('leaf.crt'), 'utf8'),
    ]);
    return { ca, key, cert };
  } catch (err) {
    throw new SimProtocolError('media', 'could not generate the media host certificate with openssl', { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
