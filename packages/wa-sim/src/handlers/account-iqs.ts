import type { HandlerTable } from '../server/router.js';
import { child, iqError, iqResult } from '../server/nodes.js';

/** Iqs the client sends around login that need only a plain or fixed answer. */
export const accountHandlers: HandlerTable = {
  'iq passive set active': ({ connection }, iq) => connection.send(iqResult(iq)),
  'iq passive set passive': ({ connection }, iq) => connection.send(iqResult(iq)),
  'iq w:p get ping': ({ connection }, iq) => connection.send(iqResult(iq)),
  'iq abt get props': ({ connection }, iq) =>
    connection.send(iqResult(iq, [{ tag: 'props', attrs: { protocol: '1', hash: 'sim' } }])),
  'iq w get props': ({ connection }, iq) =>
    connection.send(iqResult(iq, [{ tag: 'props', attrs: { protocol: '2', hash: 'sim' } }])),
  'iq blocklist get': ({ connection }, iq) => connection.send(iqResult(iq, [{ tag: 'list', attrs: {} }])),
  'iq privacy get privacy': ({ connection }, iq) =>
    connection.send(
      iqResult(iq, [
        {
          tag: 'privacy',
          attrs: {},
          content: ['last', 'online', 'profile', 'status', 'readreceipts', 'groupadd'].map((name) => ({
            tag: 'category',
            attrs: { name, value: name === 'readreceipts' ? 'all' : 'contacts' },
          })),
        },
      ]),
    ),
  'iq privacy set tokens': ({ connection }, iq) => connection.send(iqResult(iq)),
  'iq md set remove-companion-device': ({ world, connection }, iq) => {
    const jid = child(iq, 'remove-companion-device')?.attrs.jid ?? '';
    const login = connection.login;
    if (login && world.directory.byJid(jid)) {
      world.directory.byPn(login.pn)?.companions.delete(login.deviceId);
    }
    connection.send(iqResult(iq));
  },
  // Fake phones have no profile pictures; WhatsApp answers 404 for those.
  'iq w:profile:picture get picture': ({ connection }, iq) => connection.send(iqError(iq, 404, 'item-not-found')),
  'ib unified_session': () => undefined,
  chatstate: () => undefined,
  presence: () => undefined,
  ack: () => undefined,
};
