import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ImageResult, StickerEngine, StickerResult } from '@stickerbot/sticker';
import { converterEnv } from '@stickerbot/sticker/converter-env';
import { StickerError, type StickerErrorCode } from '@stickerbot/sticker/errors';
import type { Logger } from 'pino';
import type { JobMessage, MemberCall, MemberMessage, MemberOptions, WireError } from './sticker-pool-protocol.js';

/**
 * A pool member died while running a job (a native crash, the kernel's OOM killer, a bug
 * that exits): the job fails with this, the pool starts a new member.
 */
export class ConverterCrashedError extends Error {
  override readonly name = 'ConverterCrashedError';
  readonly code = 'CONVERTER_CRASHED';
  /** How the member ended: its `exitCode` or `signal`, and its `pid`. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, details: Record<string, unknown>) {
    super(message);
    this.details = details;
  }
}

/** Options of {@link createStickerPool}. */
export interface StickerPoolOptions {
  /** Members, i.e. jobs converting at once; default os.availableParallelism(). */
  size?: number;
  /** Time budget of one job in ms, from the moment a member takes it; past it the member is killed (TIMEOUT). */
  jobTimeoutMs: number;
  /** Budget of a member's resident memory while it runs a job, in bytes; past it the member is killed (TOO_MANY_PIXELS). 0: none. */
  jobMemoryBytes: number;
  /** How often a busy member's memory is read, in ms (default 100). */
  memoryCheckMs?: number;
  /** Passed to each member's sticker engine. */
  engine: MemberOptions;
  /** The members' environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  log: Logger;
}

/** The sticker engine of the worker, run by child processes; the same interface as the engine itself. */
export interface StickerPool extends StickerEngine {
  /** Starts every member now instead of on the first job. */
  warm(): void;
  /** Members (started or starting), those started, those running a job (and their pids), jobs waiting; for tests and logs. */
  stats(): { members: number; ready: number; busy: number; busyPids: number[]; queued: number };
}

interface Job {
  message: JobMessage;
  signal: AbortSignal | undefined;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onAbort: () => void;
}

interface Member {
  child: ChildProcess;
  pid: number | undefined;
  ready: boolean;
  job: Job | undefined;
  deadline: NodeJS.Timeout | undefined;
}

const HERE = import.meta.url;
/** From source (tsx, vitest) the member is a .ts file and needs tsx's loader; from dist it is plain JavaScript. */
const FROM_SOURCE = HERE.endsWith('.ts');
const MEMBER_ENTRY = fileURLToPath(new URL(`./sticker-pool-member.${FROM_SOURCE ? 'ts' : 'js'}`, HERE));
const MEMBER_EXEC_ARGV = FROM_SOURCE ? ['--import', pathToFileURL(createRequire(HERE).resolve('tsx')).href, '--conditions=@stickerbot/source'] : [];

/** A member's resident set in bytes, or undefined where /proc is missing (not Linux) or the process is gone. */
function residentBytes(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

function stickerError(code: StickerErrorCode, message: string, details?: Record<string, unknown>): StickerError {
  return new StickerError(code, message, details === undefined ? undefined : { details });
}

function fromWire(error: WireError): Error {
  if (error.name === 'StickerError' && error.code !== undefined) return new StickerError(error.code as StickerErrorCode, error.message, { details: error.details ?? {} });
  const err = new Error(error.message);
  err.name = error.name;
  return err;
}

/** The IPC channel delivers Buffers as plain Uint8Arrays; results promise Buffers. */
function toBuffers(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('data' in value) || !(value.data instanceof Uint8Array)) return value;
  const data = value.data;
  return { ...value, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}

/** An options object without its AbortSignal (which cannot cross the process boundary). */
function withoutSignal<T extends { signal?: AbortSignal }>(options: T | undefined): Omit<T, 'signal'> | undefined {
  if (options === undefined) return undefined;
  const { signal: _signal, ...rest } = options;
  return rest;
}

/**
 * Creates the pool: up to `size` child processes, each with its own sticker engine running
 * one job at a time. Jobs wait in order for a free member. A job past its time or memory
 * budget, or whose caller aborts, is ended by killing its member (and the member's ffmpeg,
 * its process group); a killed or crashed member is replaced. Members start on the first
 * job or on {@link StickerPool.warm}, so the worker itself never loads sharp.
 */
export function createStickerPool(options: StickerPoolOptions): StickerPool {
  const size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
  const log = options.log.child({ module: 'sticker-pool' });
  const members: Member[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let closed = false;
  let memoryTimer: NodeJS.Timeout | undefined;
  let drained: (() => void) | undefined;

  const busy = (): Member[] => members.filter((m) => m.job !== undefined);

  /** Takes the job off its member: the member is free again (or about to be replaced). */
  const release = (member: Member): Job | undefined => {
    const job = member.job;
    member.job = undefined;
    clearTimeout(member.deadline);
    job?.signal?.removeEventListener('abort', job.onAbort);
    if (busy().length === 0) {
      clearInterval(memoryTimer);
      memoryTimer = undefined;
    }
    return job;
  };

  const remove = (member: Member): void => {
    const index = members.indexOf(member);
    if (index >= 0) members.splice(index, 1);
  };

  /** Ends a member and its ffmpeg at once; its job fails with `error`. */
  const kill = (member: Member, error: Error): void => {
    const job = release(member);
    remove(member);
    try {
      // The member leads its own process group: this takes a running ffmpeg along.
      if (member.pid !== undefined) process.kill(-member.pid, 'SIGKILL');
    } catch {
      member.child.kill('SIGKILL');
    }
    job?.reject(error);
    if (!closed) spawn();
    dispatch();
  };

  const checkMemory = (): void => {
    for (const member of busy()) {
      const rss = member.pid === undefined ? undefined : residentBytes(member.pid);
      if (rss === undefined || rss <= options.jobMemoryBytes) continue;
      const budgetMib = Math.round(options.jobMemoryBytes / 2 ** 20);
      log.warn({ pid: member.pid, rssBytes: rss, budgetBytes: options.jobMemoryBytes, call: member.job?.message.call }, 'a sticker job went past its memory budget: its converter is killed');
      kill(member, stickerError('TOO_MANY_PIXELS', `the job used more than its ${budgetMib} MiB memory budget; its converter was stopped`, { rssBytes: rss, budgetBytes: options.jobMemoryBytes }));
    }
  };

  const assign = (member: Member, job: Job): void => {
    member.job = job;
    member.deadline = setTimeout(() => {
      log.warn({ pid: member.pid, budgetMs: options.jobTimeoutMs, call: job.message.call }, 'a sticker job went past its time budget: its converter is killed');
      kill(member, stickerError('TIMEOUT', `the job ran past its ${options.jobTimeoutMs / 1000} s budget; its converter was stopped`, { budgetMs: options.jobTimeoutMs, pid: member.pid }));
    }, options.jobTimeoutMs);
    if (options.jobMemoryBytes > 0) memoryTimer ??= setInterval(checkMemory, options.memoryCheckMs ?? 100);
    member.child.send(job.message);
  };

  const dispatch = (): void => {
    for (const member of members) {
      if (queue.length === 0) break;
      if (member.ready && member.job === undefined) assign(member, queue.shift() as Job);
    }
    const starting = members.filter((m) => !m.ready).length;
    for (let i = starting; i < queue.length && members.length < size && !closed; i += 1) spawn();
    if (closed && queue.length === 0 && busy().length === 0) drained?.();
  };

  const onMessage = (member: Member, message: MemberMessage): void => {
    if (message.type === 'ready') {
      member.ready = true;
      dispatch();
      return;
    }
    if (member.job?.message.id !== message.id) return;
    const job = release(member) as Job;
    if (message.type === 'done') job.resolve(toBuffers(message.value));
    else job.reject(fromWire(message.error));
    dispatch();
  };

  const onExit = (member: Member, exitCode: number | null, signal: NodeJS.Signals | null): void => {
    if (!members.includes(member)) return; // killed on purpose: already handled
    remove(member);
    const wasReady = member.ready;
    const job = release(member);
    const details = { pid: member.pid, exitCode, signal };
    if (job !== undefined) {
      log.error({ ...details, call: job.message.call }, 'a sticker converter crashed while running a job');
      job.reject(new ConverterCrashedError(`the converter (pid ${member.pid}) ended with ${signal ?? `exit code ${exitCode}`} while running the job`, details));
    } else if (!wasReady && queue.length > 0) {
      // A member that cannot even start fails one waiting job, so a broken install cannot hang them all.
      log.error(details, 'a sticker converter failed to start');
      queue.shift()?.reject(new ConverterCrashedError(`the converter failed to start (${signal ?? `exit code ${exitCode}`})`, details));
    }
    // A member that worked is replaced at once; one that never started only on demand.
    if (!closed && wasReady) spawn();
    dispatch();
  };

  function spawn(): void {
    const child = fork(MEMBER_ENTRY, [JSON.stringify(options.engine)], {
      execArgv: MEMBER_EXEC_ARGV,
      serialization: 'advanced',
      // glibc reads its malloc settings at the member's start (see converter-env.ts).
      env: converterEnv(options.env ?? process.env),
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const member: Member = { child, pid: child.pid, ready: false, job: undefined, deadline: undefined };
    members.push(member);
    child.on('message', (message: MemberMessage) => onMessage(member, message));
    child.on('exit', (code, signal) => onExit(member, code, signal));
    child.on('error', (err) => log.error({ err, pid: child.pid }, 'sticker converter process error'));
  }

  const run = <T>(call: MemberCall, args: unknown[], signal: AbortSignal | undefined): Promise<T> => {
    if (closed) return Promise.reject(stickerError('CLOSED', 'the sticker engine is closed'));
    if (signal?.aborted) return Promise.reject(new StickerError('ABORTED', 'the conversion was aborted', { cause: signal.reason }));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        message: { id: nextId++, call, args },
        signal,
        resolve: resolve as (value: unknown) => void,
        reject,
        onAbort: () => {
          const aborted = new StickerError('ABORTED', 'the conversion was aborted', { cause: signal?.reason });
          const index = queue.indexOf(job);
          if (index >= 0) {
            queue.splice(index, 1);
            reject(aborted);
            return;
          }
          const member = members.find((m) => m.job === job);
          if (member !== undefined) kill(member, aborted);
        },
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      queue.push(job);
      dispatch();
    });
  };

  return {
    toSticker: (input, stickerOptions) => run<StickerResult>('toSticker', [input, withoutSignal(stickerOptions)], stickerOptions?.signal),
    retag: (sticker, metadata) => run<StickerResult>('retag', [sticker, metadata], undefined),
    fromText: (text, stickerOptions) => run<StickerResult>('fromText', [text, withoutSignal(stickerOptions)], stickerOptions?.signal),
    toImage: (sticker, imageOptions) => run<ImageResult>('toImage', [sticker, withoutSignal(imageOptions)], imageOptions?.signal),
    info: (sticker) => run('info', [sticker], undefined),
    fingerprint: (image) => run<string>('fingerprint', [image], undefined),
    ffmpeg: () => run('ffmpeg', [], undefined),

    warm() {
      while (!closed && members.length < size) spawn();
    },

    stats: () => ({
      members: members.length,
      ready: members.filter((m) => m.ready).length,
      busy: busy().length,
      busyPids: busy().flatMap((m) => (m.pid === undefined ? [] : [m.pid])),
      queued: queue.length,
    }),

    async close() {
      if (!closed) {
        closed = true;
        for (const job of queue.splice(0)) job.reject(stickerError('CLOSED', 'the sticker engine is closed'));
        if (busy().length > 0) await new Promise<void>((resolve) => (drained = resolve));
      }
      // Disconnecting ends a member (and whatever it runs), see sticker-pool-member.ts. One
      // not ready yet may still be starting Node and its loader, before it listens: it runs
      // nothing, so it is killed rather than waited for.
      await Promise.all(
        members.splice(0).map(
          (member) =>
            new Promise<void>((resolve) => {
              if (member.child.exitCode !== null || member.child.signalCode !== null) return resolve();
              member.child.once('exit', () => resolve());
              if (member.ready) member.child.disconnect();
              else member.child.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
