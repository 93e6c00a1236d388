import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { converterEnv } from './converter-env.js';
import { StickerError } from './errors.js';
import { cappedCommand, type MemoryCap } from './memory-cap.js';
import type { SpawnHelper } from './spawn-helper.js';
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

/** How a started child is stopped and named, whoever started it. */
interface ChildHandle {
  /** Kills the child (SIGKILL) and unblocks whatever waits for its output. */
  kill(): void;
  /** Its pid, once known. */
  pid(): number | undefined;
}

/** What both ways of starting a child report to its {@link Supervision}. */
interface Supervision {
  /** A chunk of stdout: handed to `onStdout` or collected; past the cap, or when `onStdout` throws, the child is killed. */
  received(chunk: Buffer): void;
  /** Kills the child; `err` becomes the result unless a failure came first. */
  kill(err: StickerError): void;
  /** The child could not be started. */
  startFailed(reason: string, cause?: unknown): void;
  /** The child is gone, with its exit code and the end of its stderr. */
  exited(code: number | null, stderr: string): void;
  /** stdout reached its end (only awaited when it is a socket). */
  stdoutClosed(): void;
  readonly control: StdoutControl;
}

/**
 * The deadline, abort, output cap and exit reading of one run, the same whether our process
 * or the spawn helper started the child. Settles once the child is gone and its stdout closed.
 */
function supervise(
  command: string,
  line: { command: string; args: readonly string[] },
  options: RunOptions,
  socket: StdoutSocket | undefined,
  child: ChildHandle,
  pipe: { pause(): void; resume(): void } | undefined,
  resolve: (result: RunResult) => void,
  reject: (err: StickerError) => void,
): Supervision {
  const out: Buffer[] = [];
  let outBytes = 0;
  let failure: StickerError | undefined;
  let exit: { code: number | null; stderr: string } | undefined;
  let stdoutOpen = socket !== undefined;
  // The helper learns the pid a few milliseconds after the run: filled in at the kill and again when the child is gone.
  const details: { pid?: number | undefined } = {};

  const kill = (err: StickerError): void => {
    failure ??= err;
    details.pid ??= child.pid();
    child.kill();
    socket?.ours.destroy();
  };
  const timer = setTimeout(() => {
    kill(new StickerError('TIMEOUT', `ffmpeg ran past its ${options.timeoutMs} ms deadline and was killed`, { details }));
  }, options.timeoutMs);
  const onAbort = (): void => kill(new StickerError('ABORTED', 'the conversion was aborted', { cause: options.signal?.reason, details }));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const control: StdoutControl = {
    pause: () => (socket === undefined ? pipe?.pause() : socket.ours.pause()),
    resume: () => (socket === undefined ? pipe?.resume() : socket.ours.resume()),
    fail: kill,
  };
  const settle = (): void => {
    if (exit === undefined || stdoutOpen) return;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    details.pid ??= child.pid();
    if (failure !== undefined) reject(failure);
    else resolve({ stdout: Buffer.concat(out), stderr: exit.stderr, exitCode: exit.code });
  };
  return {
    control,
    kill,
    received(chunk) {
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
    },
    startFailed(reason, cause) {
      failure ??= new StickerError('FFMPEG_FAILED', `could not start ${command}: ${reason}`, { cause });
    },
    exited(code, stderr) {
      // prlimit's own "could not execute" codes (a missing binary, or libraries that do not fit the cap).
      if (line.command !== command && (code === 126 || code === 127)) {
        failure ??= new StickerError('FFMPEG_FAILED', `could not start ${command} under its memory cap: ${stderr.trim().slice(-300)}`);
      }
      exit = { code, stderr };
      // The child is gone: if it never ran, nothing will end our socket.
      if (failure !== undefined) socket?.ours.destroy();
      settle();
    },
    stdoutClosed() {
      stdoutOpen = false;
      settle();
    },
  };
}

/**
 * Spawns `command` with an argument array and collects its output. Resolves on any exit
 * code (the caller decides what a non-zero code means); rejects with TIMEOUT, ABORTED or
 * FFMPEG_FAILED (could not start, output too large). Always waits for the child to be
 * gone before settling, so the caller may remove its temp files right after.
 */
export async function runProcess(command: string, options: RunOptions): Promise<RunResult> {
  const readBuffer = options.onStdout !== undefined && options.stdoutSocketDir !== undefined ? Buffer.allocUnsafeSlow(SOCKET_READ_BYTES) : undefined;
  let run: Supervision | undefined;
  // Without a socket (path too long, no Unix sockets) stdout stays a pipe: slower, same bytes.
  const socket =
    readBuffer === undefined || options.signal?.aborted
      ? undefined
      : await openStdoutSocket(options.stdoutSocketDir!, readBuffer, (bytes) => {
          run?.received(readBuffer.subarray(0, bytes));
          return true;
        }).catch(() => undefined);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      socket?.ours.destroy();
      socket?.childEnd.destroy();
      reject(new StickerError('ABORTED', 'the conversion was aborted', { cause: options.signal.reason }));
      return;
    }
    const line = cappedCommand(command, options.args, options.memoryCap);
    if (socket !== undefined) {
      socket.ours.on('error', () => undefined);
      socket.ours.on('close', () => run?.stdoutClosed());
    }
    const helper = socket !== undefined && options.stdin === undefined ? options.spawnHelper : undefined;
    if (helper !== undefined && socket !== undefined) {
      // The helper reports the exit in a later tick, when `run` is set.
      const child = helper.run(line.command, line.args, socket.childEnd, (ended) => {
        if (ended.error !== undefined) run?.startFailed(ended.error);
        run?.exited(ended.code, ended.stderr);
      });
      run = supervise(command, line, options, socket, { kill: () => child.kill(), pid: () => child.pid }, undefined, resolve, reject);
      return;
    }
    const child = spawn(line.command, line.args, { stdio: ['pipe', socket?.childEnd ?? 'pipe', 'pipe'], env: converterEnv(process.env), windowsHide: true });
    // The child holds its own copy now; ours must go, or the socket never reaches EOF.
    socket?.childEnd.destroy();
    const supervision = supervise(
      command,
      line,
      options,
      socket,
      {
        kill: () => {
          child.kill('SIGKILL');
          // A paused pipe would never end, and 'close' waits for it.
          child.stdout?.resume();
        },
        pid: () => child.pid,
      },
      child.stdout ?? undefined,
      resolve,
      reject,
    );
    run = supervision;
    let stderr = '';
    if (socket === undefined) child.stdout?.on('data', (chunk: Buffer) => supervision.received(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    const stdin = child.stdin!;
    // ffmpeg may stop reading stdin early (e.g. after an error): that EPIPE is not ours to report.
    stdin.on('error', () => undefined);
    child.on('error', (err) => supervision.startFailed(err.message, err));
    child.on('close', (exitCode) => supervision.exited(exitCode, stderr));
    if (options.stdin === undefined) stdin.end();
    else if (Buffer.isBuffer(options.stdin)) stdin.end(options.stdin);
    else {
      pipeline(Readable.from(options.stdin), stdin).catch((err: unknown) => {
        if (err instanceof StickerError) supervision.kill(err);
        // ffmpeg exiting early breaks the pipe: its exit code tells why, not the pipe error.
        else if (!PIPE_CLOSED.has((err as NodeJS.ErrnoException).code ?? '')) {
          supervision.kill(new StickerError('FFMPEG_FAILED', `writing to ${command} failed: ${String(err)}`, { cause: err }));
        }
      });
    }
  });
}
