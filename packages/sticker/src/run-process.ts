import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { converterEnv } from './converter-env.js';
import { StickerError } from './errors.js';
import { cappedCommand, type MemoryCap } from './memory-cap.js';
import type { HelperExit, SpawnHelper } from './spawn-helper.js';
import { openStdoutSocket, type StdoutSocket } from './stdout-socket.js';

/** One run of a child process. */
export interface RunOptions {
  /** Argument array; never a shell string. */
  args: readonly string[];
  /**
   * Bytes written to the child's stdin, which is then closed. An async iterable is
   * streamed with backpressure (only what the pipe holds is in memory); a StickerError it
   * throws kills the child and becomes the result.
   */
  stdin?: Buffer | AsyncIterable<Buffer> | undefined;
  /** Deadline in milliseconds: past it the child is killed (SIGKILL) and TIMEOUT thrown. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The child is killed and FFMPEG_FAILED thrown if stdout grows past this. */
  maxStdoutBytes: number;
  /** Address-space cap of the child (its allocations fail past it); none when undefined. */
  memoryCap?: MemoryCap | undefined;
  /**
   * Streams stdout to the caller instead of collecting it (`RunResult.stdout` is then
   * empty). `control` pauses and resumes the pipe (backpressure) or kills the child with
   * the caller's error. With `stdoutSocketDir` a chunk is valid only during the call.
   */
  onStdout?: ((chunk: Buffer, control: StdoutControl) => void) | undefined;
  /**
   * With `onStdout`: a private folder where stdout is carried by a Unix socket read into
   * one reused buffer (see openStdoutSocket), not by a pipe read into a new chunk each time.
   */
  stdoutSocketDir?: string | undefined;
  /**
   * Starts the child through this helper process instead of forking ours (see
   * spawn-helper.ts), when stdout is a socket and there is no stdin to write.
   */
  spawnHelper?: SpawnHelper | undefined;
}

/** One read of the socket: a whole raw canvas is a few reads at most. */
const SOCKET_READ_BYTES = 1024 * 1024;

/** Lets an `onStdout` consumer throttle or stop the child. */
export interface StdoutControl {
  pause(): void;
  resume(): void;
  fail(err: StickerError): void;
}

/** What the child printed and how it ended. */
export interface RunResult {
  stdout: Buffer;
  /** The last 16 KiB of stderr. */
  stderr: string;
  exitCode: number | null;
}

const STDERR_KEEP = 16 * 1024;
const PIPE_CLOSED = new Set(['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/**
 * Spawns `command` with an argument array and collects its output. Resolves on any exit
 * code (the caller decides what a non-zero code means); rejects with TIMEOUT, ABORTED or
 * FFMPEG_FAILED (could not start, output too large). Always waits for the child to be
 * gone before settling, so the caller may remove its temp files right after.
 */
export async function runProcess(command: string, options: RunOptions): Promise<RunResult> {
  let deliver: (bytes: number) => boolean = () => true;
  const readBuffer = options.onStdout !== undefined && options.stdoutSocketDir !== undefined ? Buffer.allocUnsafeSlow(SOCKET_READ_BYTES) : undefined;
  // Without a socket (path too long, no Unix sockets) stdout stays a pipe: slower, same bytes.
  const socket =
    readBuffer === undefined || options.signal?.aborted
      ? undefined
      : await openStdoutSocket(options.stdoutSocketDir!, readBuffer, (bytes) => deliver(bytes)).catch(() => undefined);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      socket?.ours.destroy();
      socket?.childEnd.destroy();
      reject(new StickerError('ABORTED', 'the conversion was aborted', { cause: options.signal.reason }));
      return;
    }
    const line = cappedCommand(command, options.args, options.memoryCap);
    if (socket !== undefined && options.spawnHelper !== undefined && options.stdin === undefined) {
      const viaHelper = runThroughHelper(options.spawnHelper, command, line, socket, readBuffer!, options);
      deliver = viaHelper.deliver;
      viaHelper.result.then(resolve, reject);
      return;
    }
    const child = spawn(line.command, line.args, { stdio: ['pipe', socket?.childEnd ?? 'pipe', 'pipe'], env: converterEnv(process.env), windowsHide: true });
    // The child holds its own copy now; ours must go, or the socket never reaches EOF.
    socket?.childEnd.destroy();
    const stdin = child.stdin!;
    const stderrStream = child.stderr!;
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: StickerError | undefined;
    let exited: number | null | undefined;
    let stdoutOpen = socket !== undefined;

    const kill = (err: StickerError): void => {
      failure ??= err;
      child.kill('SIGKILL');
      // A paused pipe would never end, and 'close' waits for it.
      child.stdout?.resume();
      socket?.ours.destroy();
    };
    const timer = setTimeout(() => {
      kill(new StickerError('TIMEOUT', `ffmpeg ran past its ${options.timeoutMs} ms deadline and was killed`, { details: { pid: child.pid } }));
    }, options.timeoutMs);
    const control: StdoutControl = {
      pause: () => (socket === undefined ? child.stdout?.pause() : socket.ours.pause()),
      resume: () => (socket === undefined ? child.stdout?.resume() : socket.ours.resume()),
      fail: kill,
    };
    const onAbort = (): void => kill(new StickerError('ABORTED', 'the conversion was aborted', { cause: options.signal?.reason, details: { pid: child.pid } }));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const received = (chunk: Buffer): void => {
      outBytes += chunk.length;
      if (outBytes > options.maxStdoutBytes) {
        kill(new StickerError('FFMPEG_FAILED', `ffmpeg wrote more than ${options.maxStdoutBytes} bytes`));
        return;
      }
      if (options.onStdout === undefined) out.push(chunk);
      else if (failure === undefined) {
        try {
          options.onStdout(chunk, control);
        } catch (err) {
          kill(err instanceof StickerError ? err : new StickerError('FFMPEG_FAILED', `reading ffmpeg's output failed: ${String(err)}`, { cause: err }));
        }
      }
    };
    const settle = (): void => {
      if (exited === undefined || stdoutOpen) return;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) reject(failure);
      else resolve({ stdout: Buffer.concat(out), stderr, exitCode: exited });
    };
    if (socket === undefined) child.stdout?.on('data', received);
    else {
      deliver = (bytes) => {
        received(readBuffer!.subarray(0, bytes));
        return true;
      };
      socket.ours.on('error', () => undefined);
      socket.ours.on('close', () => {
        stdoutOpen = false;
        settle();
      });
    }
    stderrStream.setEncoding('utf8');
    stderrStream.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    // ffmpeg may stop reading stdin early (e.g. after an error): that EPIPE is not ours to report.
    stdin.on('error', () => undefined);
    child.on('error', (err) => {
      failure ??= new StickerError('FFMPEG_FAILED', `could not start ${command}: ${err.message}`, { cause: err });
    });
    child.on('close', (exitCode) => {
      // prlimit's own "could not execute" codes (a missing binary, or libraries that do not fit the cap).
      if (line.command !== command && (exitCode === 126 || exitCode === 127)) {
        failure ??= new StickerError('FFMPEG_FAILED', `could not start ${command} under its memory cap: ${stderr.trim().slice(-300)}`);
      }
      exited = exitCode;
      // The child is gone: if it never ran, nothing will end our socket.
      if (failure !== undefined) socket?.ours.destroy();
      settle();
    });
    if (options.stdin === undefined) stdin.end();
    else if (Buffer.isBuffer(options.stdin)) stdin.end(options.stdin);
    else {
      pipeline(Readable.from(options.stdin), stdin).catch((err: unknown) => {
        if (err instanceof StickerError) kill(err);
        // ffmpeg exiting early breaks the pipe: its exit code tells why, not the pipe error.
        else if (!PIPE_CLOSED.has((err as NodeJS.ErrnoException).code ?? '')) {
          kill(new StickerError('FFMPEG_FAILED', `writing to ${command} failed: ${String(err)}`, { cause: err }));
        }
      });
    }
  });
}

/**
 * runProcess's path through the spawn helper: the same deadline, abort, output cap and
 * exit-code reading, with the child started (and killed) by the helper.
 */
function runThroughHelper(
  helper: SpawnHelper,
  command: string,
  line: { command: string; args: readonly string[] },
  socket: StdoutSocket,
  readBuffer: Buffer,
  options: RunOptions,
): { deliver: (bytes: number) => boolean; result: Promise<RunResult> } {
  let deliver: (bytes: number) => boolean = () => true;
  const result = new Promise<RunResult>((resolve, reject) => {
    let failure: StickerError | undefined;
    let exit: HelperExit | undefined;
    let stdoutOpen = true;
    let outBytes = 0;
    const child = helper.run(line.command, line.args, socket.childEnd, (ended) => {
      exit = ended;
      if (ended.error !== undefined) failure ??= new StickerError('FFMPEG_FAILED', `could not start ${command}: ${ended.error}`);
      // prlimit's own "could not execute" codes (a missing binary, or libraries that do not fit the cap).
      if (line.command !== command && (ended.code === 126 || ended.code === 127)) {
        failure ??= new StickerError('FFMPEG_FAILED', `could not start ${command} under its memory cap: ${ended.stderr.trim().slice(-300)}`);
      }
      // The child is gone: if it never ran, nothing will end our socket.
      if (failure !== undefined) socket.ours.destroy();
      settle();
    });
    const kill = (err: StickerError): void => {
      failure ??= err;
      child.kill();
      socket.ours.destroy();
    };
    // The pid arrives a few milliseconds after the run (the helper may still be starting): filled in when the child is gone.
    const killed: { pid?: number | undefined } = {};
    const timer = setTimeout(() => {
      kill(new StickerError('TIMEOUT', `ffmpeg ran past its ${options.timeoutMs} ms deadline and was killed`, { details: killed }));
    }, options.timeoutMs);
    const control: StdoutControl = { pause: () => socket.ours.pause(), resume: () => socket.ours.resume(), fail: kill };
    const onAbort = (): void => kill(new StickerError('ABORTED', 'the conversion was aborted', { cause: options.signal?.reason, details: killed }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      if (exit === undefined || stdoutOpen) return;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      killed.pid = child.pid;
      if (failure !== undefined) reject(failure);
      else resolve({ stdout: Buffer.alloc(0), stderr: exit.stderr, exitCode: exit.code });
    };
    deliver = (bytes) => {
      outBytes += bytes;
      if (outBytes > options.maxStdoutBytes) {
        kill(new StickerError('FFMPEG_FAILED', `ffmpeg wrote more than ${options.maxStdoutBytes} bytes`));
        return true;
      }
      if (failure === undefined) {
        try {
          options.onStdout!(readBuffer.subarray(0, bytes), control);
        } catch (err) {
          kill(err instanceof StickerError ? err : new StickerError('FFMPEG_FAILED', `reading ffmpeg's output failed: ${String(err)}`, { cause: err }));
        }
      }
      return true;
    };
    socket.ours.on('error', () => undefined);
    socket.ours.on('close', () => {
      stdoutOpen = false;
      settle();
    });
  });
  return { deliver, result };
}
