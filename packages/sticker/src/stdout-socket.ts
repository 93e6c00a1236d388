import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

/** The two ends of one Unix-socket connection made for a child's stdout. */
export interface StdoutSocket {
  /** Given to the child as its stdout (`stdio[1]`); the parent closes its copy once spawned. */
  childEnd: Socket;
  /** Ours: every read lands in the one `buffer` passed to `openStdoutSocket`. */
  ours: Socket;
}

/** Unix socket paths longer than this do not fit `sockaddr_un` on every platform. */
const MAX_SOCKET_PATH = 100;

/**
 * Connects a Unix socket in `dir` (a private per-job folder) to itself and reads our end
 * with `onread` into the one reused `buffer`: `onData(bytes)` sees `buffer[0, bytes)`,
 * valid until it returns; returning false pauses the socket. A child's pipe read by a
 * stream allocates a new 64 KiB chunk per read instead, and after every spawn (fork) each
 * fresh page costs a page fault in the parent, which is expensive in VMs. Undefined when
 * `dir` is too long for a socket path (the caller falls back to the pipe).
 */
export async function openStdoutSocket(
  dir: string,
  buffer: Buffer,
  onData: (bytes: number) => boolean,
): Promise<StdoutSocket | undefined> {
  const path = join(dir, `stdout-${randomBytes(6).toString('hex')}.sock`);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return undefined;
  const server = createServer();
  try {
    server.listen(path);
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const ours = connect({ path, onread: { buffer, callback: (bytes) => onData(bytes) } });
    const failed = once(ours, 'error').then(([err]) => Promise.reject(err as Error));
    const [childEnd] = await Promise.race([accepted, failed]);
    return { childEnd, ours };
  } finally {
    server.close();
  }
}
