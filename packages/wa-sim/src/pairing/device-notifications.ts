import { createHash } from 'node:crypto';
import { pnJid, type Account } from '../directory/accounts.js';
import { unixNow } from '../server/nodes.js';
import { deviceKey, type World } from '../server/world.js';
import { newMessageId } from './qr-pairing.js';

/**
 * Tells an account's other online companions that a device was linked or removed, so their
 * cached device lists include (or drop) it for the next fan-out.
 */
export function notifyDeviceChange(world: World, account: Account, tag: 'add' | 'remove', deviceId: number): void {
  const deviceHash = createHash('sha256')
    .update([...account.companions.keys()].join(','))
    .digest('base64')
    .slice(0, 8);
  for (const companionId of account.companions.keys()) {
    if (companionId === deviceId) continue;
    world.online.get(deviceKey(account.pn, companionId))?.send({
      tag: 'notification',
      attrs: { from: pnJid(account.pn), id: newMessageId(), type: 'devices', t: unixNow() },
      content: [
        {
          tag,
          attrs: { device_hash: deviceHash },
          content: [{ tag: 'device', attrs: { jid: pnJid(account.pn, deviceId), 'key-index': String(deviceId) } }],
        },
      ],
    });
  }
}
