/**
 * A real `redis-server` (Debian's package, 7.0 on Debian 12) for tests and benchmarks: its
 * own temporary folder, a free loopback port, AOF on with `appendfsync always` as the cluster
 * mode's durability section describes. Stop, crash (SIGKILL) and restart it on the same port
 * and folder, so that a test can prove what survives a Redis restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** The binary (default `redis-server` on `PATH`, else `/usr/bin/redis-server`). */
  binary?: string;
  /** `appendfsync` policy (default `always`). */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** How long start may take (default 10 s). */
  startTimeoutMs?: number;
  /** The data folder (created if missing, kept by `close`); default a new temporary one that `close` deletes. */
  dir?: string;
}

/** A running test Redis. */
export interface TestRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The data folder (AOF files live in its `appendonlydir`). */
  readonly dir: string;
  /** SIGKILLs the server (a crash: only what AOF fsynced survives). */
  kill(): Promise<void>;
  /** SIGTERM and wait (Redis rewrites nothing; AOF is already on disk). */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder (after `kill` or `stop`). */
  restart(): Promise<void>;
  /** Stops it and deletes its folder (unless the caller named the folder). */
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no TCP address to read a port from'))));
    });
  });
}

/** Resolves once a `PING` on the port gets `+PONG` (Redis accepts connections while loading the AOF, answering `-LOADING`). */
async function waitForPong(port: number, deadline: number, child: ChildProcess, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before it answered: ${output().slice(-2000)}`);
    }
    const pong = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let reply = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        reply += chunk.toString('latin1');
        if (reply.includes('\r\n')) socket.end();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(reply.startsWith('+PONG')));
    });
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING in time: ${output().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private `redis-server` and resolves once it answers. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<TestRedisServer> {
  const binary = options.binary ?? process.env.STICKERBOT_TEST_REDIS_SERVER ?? 'redis-server';
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'stickerbot-redis-'));
  if (!ownsDir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', options.appendfsync ?? 'always',
      '--save', '',
      '--protected-mode', 'yes',
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ];
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      started.once('error', (err) => reject(new Error(`cannot start '${binary}' (install Debian's redis-server): ${err.message}`))),
    );
    child = started;
    await Promise.race([waitForPong(port, Date.now() + (options.startTimeoutMs ?? 10_000), started, () => output), spawnError]);
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill(sig);
    await exited(running);
  };

  try {
    await launch();
  } catch (err) {
    await signal('SIGKILL');
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    restart: async () => {
      await signal('SIGTERM');
      await launch();
    },
    close: async () => {
      await signal('SIGTERM');
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
