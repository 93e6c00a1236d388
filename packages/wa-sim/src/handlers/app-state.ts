import type { BinaryNode } from '@whiskeysockets/baileys';
import type { HandlerTable } from '../server/router.js';
import { child, children, iqResult } from '../server/nodes.js';

/**
 * `w:sync:app:state`: each requested collection is answered with the account's patches newer
 * than the client's version (a realistic account's, see `account-content.ts`), inline; an
 * account without app state gets every collection at the client's version with no patches.
 * `urn:xmpp:whatsapp:dirty` `clean`: the client clears a dirty bit after acting on it.
 */
export const appStateHandlers: HandlerTable = {
  'iq w:sync:app:state set sync': ({ world, connection }, iq) => {
    const content = connection.login ? world.content.get(connection.login.pn) : undefined;
    const collections = children(child(iq, 'sync')).map((c): BinaryNode => {
      const name = c.attrs.name ?? '';
      const version = Number(c.attrs.version ?? '0');
      const patches = content?.appState.get(name as never) ?? [];
      if (patches.length <= version) return { tag: 'collection', attrs: { name, version: String(version) } };
      return {
        tag: 'collection',
        attrs: { name, version: String(patches.length) },
        content: [{ tag: 'patches', attrs: {}, content: patches.slice(version).map((patch): BinaryNode => ({ tag: 'patch', attrs: {}, content: patch })) }],
      };
    });
    connection.send(iqResult(iq, [{ tag: 'sync', attrs: {}, content: collections }]));
  },
  'iq urn:xmpp:whatsapp:dirty set clean': ({ connection }, iq) => {
    connection.send(iqResult(iq));
  },
};
