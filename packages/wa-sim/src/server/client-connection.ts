import { decodeBinaryNode, encodeBinaryNode, type BinaryNode } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { randomId } from '../crypto/primitives.js';
import { SimProtocolError } from '../errors.js';
import { createFrameReader, encodeFrame } from '../transport/frames.js';
import { createNoiseResponder, type HandshakeResult, type TransportCipher } from '../transport/noise-responder.js';
import type { ServerIdentity } from '../transport/cert-chain.js';

/** Who is behind a connection once it logged in. */
export interface LoginIdentity {
  readonly pn: string;
  readonly deviceId: number;
}

/** What the session layer is told about a connection. */
export interface ConnectionHooks {
  onAuthenticated(connection: ClientConnection, handshake: HandshakeResult): Promise<void> | void;
  onNode(connection: ClientConnection, node: BinaryNode): Promise<void> | void;
  onClosed(connection: ClientConnection): void;
  /** Sees every node after the handshake, both directions. */
  onTraffic?(connection: ClientConnection, direction: 'in' | 'out', node: BinaryNode): void;
}

/** One websocket from a Baileys client, from the noise handshake to close. */
export interface ClientConnection {
  readonly id: number;
  readonly routingInfo: Buffer | undefined;
  login: LoginIdentity | undefined;
  readonly closed: boolean;
  /** True while the websocket is open: neither side has started to close it. */
  readonly open: boolean;
  /** Encrypts and sends one node. Silently dropped once the socket is closed. */
  send(node: BinaryNode): void;
  /**
   * Sends a server-initiated iq and resolves with the client's `result` (or `error`) node.
   * Never await it inside a node handler of the same connection: the answer queues behind it.
   */
  query(node: BinaryNode, timeoutMs?: number): Promise<BinaryNode>;
  /** Sends `<stream:error>` with the given attributes and children, then closes the socket. */
  streamError(attrs: Record<string, string>, content?: BinaryNode[]): void;
  /** Closes the websocket cleanly (the client sees a normal close). */
  close(): void;
  /** Destroys the TCP connection without a close frame, like a network drop. */
  drop(): void;
}

// Baileys switches its noise handler to transport mode only after its ClientFinish send
// resolves; a server frame processed earlier would be misread, so the first node waits a little.
const FIRST_NODE_DELAY_MS = 25;

export function createClientConnection(
  id: number,
  ws: WebSocket,
  identity: ServerIdentity,
  hooks: ConnectionHooks,
  log: Logger,
): ClientConnection {
  const noise = createNoiseResponder(identity.staticKeyPair, identity.certChain);
  let stage: 'hello' | 'finish' | 'transport' = 'hello';
  let transport: TransportCipher | undefined;
  let routingInfo: Buffer | undefined;
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  const pending = new Map<string, { resolve: (node: BinaryNode) => void; reject: (err: Error) => void }>();

  const fail = (err: unknown): void => {
    log.warn({ err, connection: id }, 'closing client connection after a protocol error');
    connection.close();
  };

  const handleFrame = async (frame: Buffer): Promise<void> => {
    if (stage === 'hello') {
      ws.send(encodeFrame(noise.respondToHello(frame)));
      stage = 'finish';
      return;
    }
    if (stage === 'finish') {
      const result = noise.finish(frame);
      transport = result.transport;
      stage = 'transport';
      await new Promise((resolve) => setTimeout(resolve, FIRST_NODE_DELAY_MS));
      await hooks.onAuthenticated(connection, result);
      return;
    }
    const node = await decodeBinaryNode(transport!.decrypt(frame));
    hooks.onTraffic?.(connection, 'in', node);
    if (node.tag === 'iq' && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
      const waiter = pending.get(node.attrs.id ?? '');
      if (waiter) {
        pending.delete(node.attrs.id ?? '');
        waiter.resolve(node);
        return;
      }
    }
    await hooks.onNode(connection, node);
  };

  const reader = createFrameReader(
    (intro) => {
      routingInfo = intro.routingInfo;
    },
    (frame) => {
      queue = queue.then(() => handleFrame(frame)).catch(fail);
    },
  );

  ws.on('message', (data: Buffer) => {
    try {
      reader.push(Buffer.from(data));
    } catch (err) {
      fail(err);
    }
  });
  ws.on('close', () => {
    if (closed) return;
    closed = true;
    for (const waiter of pending.values()) waiter.reject(new SimProtocolError('not-connected', 'client closed before answering'));
    pending.clear();
    hooks.onClosed(connection);
  });
  ws.on('error', (err) => log.debug({ err, connection: id }, 'client websocket error'));

  const connection: ClientConnection = {
    id,
    get routingInfo() {
      return routingInfo;
    },
    login: undefined,
    get closed() {
      return closed;
    },
    get open() {
      return !closed && ws.readyState === ws.OPEN;
    },
    send(node) {
      if (closed || !transport || ws.readyState !== ws.OPEN) return;
      hooks.onTraffic?.(connection, 'out', node);
      ws.send(encodeFrame(transport.encrypt(encodeBinaryNode(node))));
    },
    query(node, timeoutMs = 20_000) {
      const iqId = node.attrs.id ?? randomId();
      return new Promise<BinaryNode>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(iqId);
          reject(new SimProtocolError('timeout', `client did not answer iq ${iqId}`));
        }, timeoutMs);
        pending.set(iqId, {
          resolve: (reply) => {
            clearTimeout(timer);
            resolve(reply);
          },
          reject: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        });
        connection.send({ ...node, attrs: { ...node.attrs, id: iqId } });
      });
    },
    streamError(attrs, content) {
      connection.send({ tag: 'stream:error', attrs, ...(content ? { content } : {}) });
      connection.close();
    },
    close() {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    },
    drop() {
      ws.terminate();
    },
  };
  return connection;
}
