import { lidJid } from '../directory/accounts.js';
import { sendInitialHistorySync } from '../e2e/history-sync.js';
import { forgetRegistration, startRegistration } from '../pairing/qr-pairing.js';
import type { HandshakeResult } from '../transport/noise-responder.js';
import type { ClientConnection } from './client-connection.js';
import { unixNow } from './nodes.js';
import { deviceKey, redeliverUnreceipted, sendToCompanion, type World } from './world.js';

/** Routes a freshly authenticated connection to registration (QR) or login. */
export function onAuthenticated(world: World, connection: ClientConnection, handshake: HandshakeResult): void {
  const { payload } = handshake;
  if (payload.devicePairingData) {
    startRegistration(world, connection, handshake.clientStaticKey, payload.devicePairingData);
    return;
  }
  login(world, connection, handshake);
}

function login(world: World, connection: ClientConnection, { payload, clientStaticKey }: HandshakeResult): void {
  const pn = String(payload.username ?? '');
  const deviceId = Number(payload.device ?? 0);
  const account = world.directory.byPn(pn);
  const companion = account?.companions.get(deviceId);
  if (!account || !companion || !companion.noiseKey.equals(clientStaticKey)) {
    world.log.info({ pn, deviceId }, 'login refused: device not linked');
    connection.send({ tag: 'failure', attrs: { reason: '401', location: 'sim' } });
    connection.close();
    return;
  }
  const injected = world.faults.loginFailures.shift();
  if (injected !== undefined) {
    connection.send({ tag: 'failure', attrs: { reason: String(injected), location: 'sim' } });
    connection.close();
    return;
  }
  const key = deviceKey(pn, deviceId);
  const previous = world.online.get(key);
  // A previous connection that is already closing (a 515, a kick, the client's own close) is not
  // replaced: only a live one gets the conflict, and only that counts as one.
  const replaced = previous !== undefined && previous !== connection && previous.open;
  world.connections.login(key, pn, deviceId, connection, replaced);
  if (replaced) previous.streamError({}, [{ tag: 'conflict', attrs: { type: 'replaced' } }]);
  connection.login = { pn, deviceId };
  world.online.set(key, connection);
  connection.send({
    tag: 'success',
    attrs: {
      t: unixNow(),
      lid: lidJid(account.lid, deviceId),
      props: '1',
      abprops: '1',
      location: 'sim',
      creation: unixNow(),
      display_name: '',
    },
  });
  connection.send({
    tag: 'ib',
    attrs: {},
    content: [
      {
        tag: 'edge_routing',
        attrs: {},
        content: [{ tag: 'routing_info', attrs: {}, content: world.routingInfo }],
      },
    ],
  });
  const queued = world.offline.get(key) ?? [];
  world.offline.delete(key);
  for (const node of queued) sendToCompanion(world, key, connection, node);
  connection.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(queued.length) } }] });
  if (!companion.historySynced && !world.faults.withholdHistorySync) {
    companion.historySynced = true;
    sendInitialHistorySync(world, connection, account, companion).catch((err: unknown) =>
      world.log.warn({ err }, 'initial history sync failed'),
    );
  }
  world.events.emit('login', {
    pn,
    deviceId,
    connectionId: connection.id,
    echoedRoutingInfo: connection.routingInfo?.equals(world.routingInfo) ?? false,
  });
}

/** Cleans up after a closed websocket. */
export function onClosed(world: World, connection: ClientConnection): void {
  forgetRegistration(world, connection);
  const login = connection.login;
  if (!login) return;
  const key = deviceKey(login.pn, login.deviceId);
  if (world.online.get(key) === connection) world.online.delete(key);
  world.connections.closed(key, connection);
  redeliverUnreceipted(world, login.pn, login.deviceId, connection);
  world.events.emit('logout', { ...login, connectionId: connection.id });
}
