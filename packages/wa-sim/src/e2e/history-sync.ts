import { deflateSync } from 'node:zlib';
import { proto } from '@whiskeysockets/baileys';
import type { Account, CompanionDevice } from '../directory/accounts.js';
import { newMessageId } from '../pairing/qr-pairing.js';
import type { ClientConnection } from '../server/client-connection.js';
import type { World } from '../server/world.js';
import { phoneStanzaFor } from './phone-send.js';

/**
 * What the primary phone sends a freshly linked companion: a history-sync notification with an
 * inline, empty INITIAL_BOOTSTRAP payload. Without it Baileys waits 20 s on its first login
 * (unless `shouldSyncHistoryMessage` disables sync).
 */
export async function sendInitialHistorySync(
  world: World,
  connection: ClientConnection,
  account: Account,
  companion: CompanionDevice,
): Promise<void> {
  const syncType = proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP;
  const payload = deflateSync(proto.HistorySync.encode({ syncType, conversations: [], progress: 100, chunkOrder: 1 }).finish());
  const message: proto.IMessage = {
    protocolMessage: {
      type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
      historySyncNotification: { syncType, chunkOrder: 1, progress: 100, initialHistBootstrapInlinePayload: payload },
    },
  };
  const id = newMessageId();
  connection.send(await phoneStanzaFor(world, account, account, companion, id, { pn: account.pn, message }));
}
