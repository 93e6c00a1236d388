import { deflateSync } from 'node:zlib';
import { proto } from '@whiskeysockets/baileys';
import type { Account, CompanionDevice } from '../directory/accounts.js';
import { newMessageId } from '../pairing/qr-pairing.js';
import type { ClientConnection } from '../server/client-connection.js';
import { unixNow } from '../server/nodes.js';
import type { World } from '../server/world.js';
import { phoneStanzaFor } from './phone-send.js';

const ProtocolType = proto.Message.ProtocolMessage.Type;

/**
 * What the primary phone sends a freshly linked companion. An account without content gets a
 * history-sync notification with an inline, empty INITIAL_BOOTSTRAP payload (without it Baileys
 * waits 20 s on its first login, unless `shouldSyncHistoryMessage` disables sync). A realistic
 * account ({@link World.content}) gets its app-state key share first (Baileys syncs the
 * collections once the history sync starts, and needs the key to decrypt them), then each
 * history chunk in order, and a `groups` dirty bit (WhatsApp's hint to fetch every group).
 */
export async function sendInitialHistorySync(
  world: World,
  connection: ClientConnection,
  account: Account,
  companion: CompanionDevice,
): Promise<void> {
  const send = async (message: proto.IMessage) =>
    connection.send(await phoneStanzaFor(world, account, account, companion, newMessageId(), { pn: account.pn, message }));
  const content = world.content.get(account.pn);
  if (!content) {
    const syncType = proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP;
    const payload = deflateSync(proto.HistorySync.encode({ syncType, conversations: [], progress: 100, chunkOrder: 1 }).finish());
    await send({
      protocolMessage: {
        type: ProtocolType.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: { syncType, chunkOrder: 1, progress: 100, initialHistBootstrapInlinePayload: payload },
      },
    });
    return;
  }
  const { keyId, keyData } = content.appStateKey;
  await send({ protocolMessage: { type: ProtocolType.APP_STATE_SYNC_KEY_SHARE, appStateSyncKeyShare: { keys: [{ keyId: { keyId }, keyData }] } } });
  for (const chunk of content.history) {
    await send({
      protocolMessage: {
        type: ProtocolType.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: {
          syncType: chunk.syncType,
          chunkOrder: chunk.chunkOrder,
          progress: chunk.progress,
          initialHistBootstrapInlinePayload: chunk.payload,
        },
      },
    });
  }
  connection.send({ tag: 'ib', attrs: {}, content: [{ tag: 'dirty', attrs: { type: 'groups', timestamp: unixNow() } }] });
}
