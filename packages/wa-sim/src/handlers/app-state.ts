import type { BinaryNode } from '@whiskeysockets/baileys';
import type { HandlerTable } from '../server/router.js';
import { child, children, iqResult } from '../server/nodes.js';

/**
 * `w:sync:app:state`: the emulated account has no app state (no archive, mute, contacts), so
 * every requested collection is answered at the client's version with no patches or snapshot.
 */
export const appStateHandlers: HandlerTable = {
  'iq w:sync:app:state set sync': ({ connection }, iq) => {
    const collections = children(child(iq, 'sync')).map(
      (c): BinaryNode => ({ tag: 'collection', attrs: { name: c.attrs.name ?? '', version: c.attrs.version ?? '0' } }),
    );
    connection.send(iqResult(iq, [{ tag: 'sync', attrs: {}, content: collections }]));
  },
};
