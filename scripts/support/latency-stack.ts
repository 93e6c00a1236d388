/**
 * The stack `pnpm bench:latency` measures, with the parts a user's message crosses as
 * separate processes: the wa-sim emulator in this process (it stands for WhatsApp's servers
 * and the contacts' phones), the daemon with real Baileys as its own process
 * (`scripts/sim-daemon.ts`, production settings: default pacing included) and the real
 * worker as its own process, stopped and started at will. Phones are timed at both ends:
 * a send is stamped before the phone encrypts it, an answer with the moment the phone had
 * decrypted it (`ReceivedMessage.receivedAt`).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdminServer, startSim, type AdminServer, type ContactPhone, type ReceivedMessage, type SentMessage, type Sim } from '@stickerbot/wa-sim';
import { pino } from 'pino';
import type { Socket } from 'socket.io-client';
import { scanQrCodes } from '../dev-sim.js';
import { freePort } from './free-port.js';
import { exited, spawnSimDaemon, stopWithin, until } from './process-stack.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

/** The bot's phone number in the emulator. */
export const LATENCY_BOT = '4915100000001';
/** How long {@link LatencyStack.settle} waits on a silent bot for a ⏳ to be followed up. */
const STANDING_REACTION_MS = 5_000;

/** What a timed exchange waits for: the bot's text answer or its sticker. */
export type AnswerKind = 'text' | 'sticker';

type WaMessage = ReceivedMessage['message'];

/** A phone's send and the moment before it. */
export interface TimedSend {
  readonly sent: SentMessage;
  readonly sentAt: number;
}

/** One timed exchange: the phone's send, and the bot's answer as that phone decrypted it. */
export interface Exchange extends TimedSend {
  readonly answer: ReceivedMessage;
  /** `answer.receivedAt - sentAt`. */
  readonly ms: number;
}

/** A contact phone whose exchanges with the bot are timed. */
export interface TimedPhone {
  readonly phone: ContactPhone;
  /** Sends (`send` is called with the phone) and stamps the moment before it. */
  send(send: (phone: ContactPhone) => Promise<SentMessage>): Promise<TimedSend>;
  /** Waits for the bot's answer of `kind` to `sent`; a text answer while a sticker is awaited is a failure. */
  answerTo(sent: TimedSend, kind: AnswerKind, timeoutMs?: number): Promise<Exchange>;
  /** `send`, then `answerTo`. */
  ask(send: (phone: ContactPhone) => Promise<SentMessage>, kind: AnswerKind, timeoutMs?: number): Promise<Exchange>;
}

export interface LatencyStack extends AsyncDisposable {
  readonly sim: Sim;
  /** The daemon's data folder (`daemon.sqlite`); the worker's is `worker/` in it. */
  readonly dataDir: string;
  /** The running daemon process's pid. */
  daemonPid(): number;
  /** A contact phone (created on first use) with timed exchanges. */
  phone(pn: string): TimedPhone;
  /** Spawns the worker (`env` added to its environment); `startedAt` is the moment before the spawn. */
  startWorker(env?: Record<string, string>): { worker: WorkerProcess; startedAt: number };
  /** Stops the daemon with SIGTERM and starts it again on the same port and data; resolves once it is connected to WhatsApp again. */
  restartDaemon(): Promise<void>;
  /** Stops the running worker with SIGTERM (as pm2 does) and waits for its exit. */
  stopWorker(): Promise<void>;
  /** When the current worker logged "connected to the daemon" (its log's own time). */
  workerConnectedAt(timeoutMs?: number): Promise<number>;
  /**
   * Waits until the bot has finished talking: every ⏳ reaction it sent has its ✅ or ❌
   * (or the bot was silent for 5 s), and no phone received anything for `quietMs`.
   */
  settle(quietMs?: number, timeoutMs?: number): Promise<void>;
  /** Recent daemon and worker output, for failure messages. */
  tail(): string;
  close(): Promise<void>;
}

/** The message's `contextInfo.stanzaId`: which message it quotes (the bot quotes the command it answers). */
export function quotedIdOf(message: WaMessage): string | undefined {
  const inner = message.extendedTextMessage ?? message.stickerMessage ?? message.imageMessage ?? message.videoMessage;
  return inner?.contextInfo?.stanzaId ?? undefined;
}

function isAnswerOfKind(message: WaMessage, kind: AnswerKind): boolean {
  if (message.reactionMessage) return false;
  return kind === 'sticker' ? Boolean(message.stickerMessage) : Boolean(message.conversation ?? message.extendedTextMessage?.text);
}

/** Starts the emulator, the daemon process and links the session; the worker is started by the caller. */
export async function startLatencyStack(): Promise<LatencyStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-latency-'));
  const workerDir = join(dataDir, 'worker');
  const output: string[] = [];
  const keep = (name: string, child: ChildProcess) => {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') output.push(`${name}: ${line}`);
        if (output.length > 300) output.splice(0, output.length - 300);
      });
    }
  };

  const sim = await startSim({ logger: pino({ level: 'silent' }) });
  let admin: AdminServer | undefined;
  let daemon: ChildProcess | undefined;
  let dashboard: Socket | undefined;
  let worker: WorkerProcess | undefined;
  const phones = new Map<string, TimedPhone>();

  const close = async () => {
    dashboard?.close();
    if (worker) await worker[Symbol.asyncDispose]();
    if (daemon) {
      await stopWithin(daemon, 10_000);
    }
    await admin?.close();
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    admin = await startAdminServer(sim);
    const caFile = join(dataDir, 'wa-sim-ca.pem');
    writeFileSync(caFile, sim.media.ca);
    // A fixed port, so that a restarted daemon is where the worker looks for it.
    const port = await freePort();
    let stdout = '';
    const startDaemon = async () => {
      const child = spawnSimDaemon({ wsUrl: sim.url, caFile }, dataDir, 'info', port);
      daemon = child;
      stdout = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        if (stdout.length < 100_000) stdout += chunk;
      });
      keep('daemon', child);
      await until(() => {
        if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}):\n${output.join('\n')}`);
        return stdout.includes('"msg":"bridge listening"');
      }, 'the daemon to listen');
    };
    await startDaemon();
    const bridgeUrl = `http://127.0.0.1:${port}`;
    const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
    dashboard = scanQrCodes({ bridgeUrl, token, adminUrl: admin.url, phones: { default: LATENCY_BOT }, say: (line) => output.push(`link: ${line}`) });
    await until(() => stdout.includes('"msg":"connected to WhatsApp"'), 'the session to link and connect', 60_000);

    let lastReceivedAt = 0;
    const timedPhone = (phone: ContactPhone): TimedPhone => {
      const timed: TimedPhone = {
        phone,
        async send(send) {
          const sentAt = Date.now();
          return { sent: await send(phone), sentAt };
        },
        async answerTo({ sent, sentAt }, kind, timeoutMs = 120_000) {
          let answer: ReceivedMessage | undefined;
          await until(() => {
            for (const received of phone.received) {
              if (received.receivedAt < sentAt) continue;
              const quoted = quotedIdOf(received.message);
              if (quoted !== undefined && quoted !== sent.id) continue;
              if (isAnswerOfKind(received.message, kind)) {
                answer = received;
                return true;
              }
              if (kind === 'sticker' && quoted === sent.id && isAnswerOfKind(received.message, 'text')) {
                throw new Error(`the bot answered ${phone.pn}'s message with text instead of a sticker: ${received.text ?? ''}`);
              }
            }
            return false;
          }, `the bot's ${kind} answer to ${phone.pn}`, timeoutMs, 5);
          if (!answer) throw new Error('unreachable: until() returned without an answer');
          return { sent, sentAt, answer, ms: answer.receivedAt - sentAt };
        },
        async ask(send, kind, timeoutMs) {
          return timed.answerTo(await timed.send(send), kind, timeoutMs);
        },
      };
      return timed;
    };

    const stack: LatencyStack = {
      sim,
      dataDir,
      daemonPid() {
        if (daemon?.pid === undefined) throw new Error('the daemon is not running');
        return daemon.pid;
      },
      phone(pn) {
        let timed = phones.get(pn);
        if (!timed) {
          timed = timedPhone(sim.phone(pn, { name: `contact ${pn.slice(-3)}` }));
          phones.set(pn, timed);
        }
        return timed;
      },
      startWorker(env = {}) {
        if (worker && worker.child.exitCode === null && worker.child.signalCode === null) throw new Error('a worker is already running');
        const startedAt = Date.now();
        worker = spawnWorker({ STICKERBOT_BRIDGE_URL: bridgeUrl, STICKERBOT_TOKEN: token, STICKERBOT_DATA_DIR: workerDir, LOG_LEVEL: 'info', ...env });
        keep('worker', worker.child);
        return { worker, startedAt };
      },
      async restartDaemon() {
        if (daemon) {
          daemon.kill('SIGTERM');
          await exited(daemon);
        }
        await startDaemon();
        await until(() => stdout.includes('"msg":"connected to WhatsApp"'), 'the restarted daemon to connect', 60_000);
      },
      async stopWorker() {
        if (!worker) return;
        worker.kill('SIGTERM');
        await worker.exited;
      },
      async workerConnectedAt(timeoutMs = 60_000) {
        if (!worker) throw new Error('no worker was started');
        const line = await worker.waitForLog('connected to the daemon', { timeoutMs });
        // The worker's records carry ISO times (the runtime logger's choice).
        const at = typeof line.time === 'string' ? Date.parse(line.time) : Number.NaN;
        return Number.isNaN(at) ? Date.now() : at;
      },
      async settle(quietMs = 600, timeoutMs = 60_000) {
        await until(() => {
          const pending = new Set<string>();
          for (const timed of phones.values()) {
            for (const received of timed.phone.received) {
              lastReceivedAt = Math.max(lastReceivedAt, received.receivedAt);
              const reaction = received.message.reactionMessage;
              const target = reaction?.key?.id;
              if (!target) continue;
              if (reaction.text === '⏳') pending.add(target);
              else pending.delete(target);
            }
          }
          const quietFor = Date.now() - lastReceivedAt;
          // A ⏳ left standing (a worker that never clears it) must not hang the bench.
          return (pending.size === 0 && quietFor >= quietMs) || quietFor >= STANDING_REACTION_MS;
        }, 'the bot to finish its answers', timeoutMs, 20);
      },
      tail: () => output.slice(-40).join('\n'),
      close,
      [Symbol.asyncDispose]: close,
    };
    return stack;
  } catch (err) {
    await close();
    throw new Error(`the stack did not start: ${err instanceof Error ? err.message : String(err)}\n${output.slice(-40).join('\n')}`, { cause: err });
  }
}
