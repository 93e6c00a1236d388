/**
 * A hand-written double of the SessionRegistry contract, for the bridge tests that run
 * before (or without) the real registry: sessions in a map, sends recorded, and a way to
 * journal events through the real journal exactly as the registry does (append, then emit).
 */
import {
  StickerbotError,
  type BotEvent,
  type JournalEntry,
  type Session,
  type WorkerCommandArgs,
  type WorkerCommandResult,
} from '@stickerbot/protocol';
import { EventEmitter } from 'node:events';
import type { SessionRegistry, SessionRegistryEvents } from '../src/session-registry.js';
import type { Journal } from '../src/storage/stores.js';

export class RegistryDouble extends EventEmitter implements SessionRegistry {
  readonly sessions = new Map<string, Session>();
  readonly sent: Array<WorkerCommandArgs<'message:send'>> = [];
  /** Replace to script a send (default: accepted at once). */
  sendImpl: (args: WorkerCommandArgs<'message:send'>) => Promise<WorkerCommandResult<'message:send'>> = (args) =>
    Promise.resolve({ messageId: `sent-${this.sent.length}-${args.id}`, timestamp: 1_700_000_000_000 });

  constructor(private readonly journal: Journal) {
    super();
  }

  override on<E extends keyof SessionRegistryEvents>(event: E, listener: (...args: SessionRegistryEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof SessionRegistryEvents>(event: E, listener: (...args: SessionRegistryEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  fire<E extends keyof SessionRegistryEvents>(event: E, ...args: SessionRegistryEvents[E]): void {
    this.emit(event, ...args);
  }

  /** Appends an event to the journal and announces it, as the real registry does. */
  journalEvent(sessionId: string, event: BotEvent, options: { announce?: boolean } = {}): JournalEntry {
    const entry = this.journal.append({ sessionId, event });
    if (options.announce ?? true) this.fire('journaled', entry);
    return entry;
  }

  setSession(id: string, status: Session['status']): Session {
    const session: Session = { id, status, reconnectAttempts: 0, updatedAt: Date.now() };
    this.sessions.set(id, session);
    this.fire('session:changed', session);
    return session;
  }

  private require(id: string): Session {
    const session = this.sessions.get(id);
    if (session === undefined) throw new StickerbotError('SESSION_NOT_FOUND', `no session ${id}`);
    return session;
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }
  create(id: string): Promise<Session> {
    if (this.sessions.has(id)) return Promise.reject(new StickerbotError('SESSION_EXISTS'));
    return Promise.resolve(this.setSession(id, 'CONNECTING'));
  }
  start(id: string): Promise<Session> {
    this.require(id);
    return Promise.resolve(this.setSession(id, 'CONNECTING'));
  }
  stop(id: string): Promise<Session> {
    this.require(id);
    return Promise.resolve(this.setSession(id, 'STOPPED'));
  }
  logout(id: string): Promise<Session> {
    this.require(id);
    return Promise.resolve(this.setSession(id, 'LOGGED_OUT'));
  }
  requestPairingCode(id: string): Promise<string> {
    this.require(id);
    return Promise.resolve('ABCD1234');
  }
  send(args: WorkerCommandArgs<'message:send'>): Promise<WorkerCommandResult<'message:send'>> {
    if (!this.sessions.has(args.sessionId)) return Promise.reject(new StickerbotError('SESSION_NOT_FOUND'));
    this.sent.push(args);
    return this.sendImpl(args);
  }
  downloadMedia(args: WorkerCommandArgs<'media:download'>): Promise<WorkerCommandResult<'media:download'>> {
    this.require(args.sessionId);
    return Promise.resolve({ data: Buffer.from('media'), mimetype: 'image/png', size: 5 });
  }
  readMessages(args: WorkerCommandArgs<'message:read'>): Promise<WorkerCommandResult<'message:read'>> {
    return Promise.resolve({ count: args.messageIds.length });
  }
  sendPresence(): Promise<WorkerCommandResult<'presence:send'>> {
    return Promise.resolve({});
  }
  lookupContacts(args: WorkerCommandArgs<'contact:lookup'>): Promise<WorkerCommandResult<'contact:lookup'>> {
    return Promise.resolve({ contacts: args.phones.map((phone) => ({ phone, exists: false })) });
  }
  groupMetadata(args: WorkerCommandArgs<'group:metadata'>): Promise<WorkerCommandResult<'group:metadata'>> {
    return Promise.resolve({ jid: args.chat, subject: 'group', participants: [] });
  }
  startAll(): Promise<void> {
    return Promise.resolve();
  }
  stopAll(): Promise<void> {
    return Promise.resolve();
  }
}
