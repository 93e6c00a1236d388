import type { BinaryNode } from '@whiskeysockets/baileys';
import { lidJid, pnJid, type Account } from '../directory/accounts.js';
import type { HandlerTable } from '../server/router.js';
import { child, children, iqResult, unixNow } from '../server/nodes.js';
import type { World } from '../server/world.js';

type ProtocolAnswer = (account: Account | undefined, requestedJid: string) => BinaryNode | undefined;

const deviceList = (account: Account): BinaryNode => ({
  tag: 'devices',
  attrs: {},
  content: [
    {
      tag: 'device-list',
      attrs: {},
      content: [
        { tag: 'device', attrs: { id: '0' } },
        ...[...account.companions.values()].map(
          (c): BinaryNode => ({ tag: 'device', attrs: { id: String(c.deviceId), 'key-index': String(c.keyIndex) } }),
        ),
      ],
    },
    { tag: 'key-index-list', attrs: { ts: unixNow() } },
  ],
});

/** One answer per usync protocol the client asked for, keyed by the query element's tag. */
const protocols: Readonly<Record<string, ProtocolAnswer>> = {
  devices: (account) => (account ? deviceList(account) : { tag: 'devices', attrs: {}, content: [{ tag: 'device-list', attrs: {}, content: [] }] }),
  // A LID asked for by its LID has no other LID: answering it would map the LID to itself.
  lid: (account, jid): BinaryNode =>
    account && !jid.endsWith('@lid') ? { tag: 'lid', attrs: { val: lidJid(account.lid) } } : { tag: 'lid', attrs: {} },
  contact: (account, jid) => ({ tag: 'contact', attrs: { type: account ? 'in' : 'out' }, content: jid.split('@')[0] ?? '' }),
  status: (account) => ({ tag: 'status', attrs: { t: unixNow() }, content: account ? 'Hey there! I am using WhatsApp.' : '' }),
  disappearing_mode: () => ({ tag: 'disappearing_mode', attrs: { duration: '0', t: '0' } }),
};

const resolveUser = (world: World, user: BinaryNode): { jid: string; account: Account | undefined } => {
  const jid = user.attrs.jid;
  if (jid) return { jid, account: world.directory.byJid(jid) };
  const contact = child(user, 'contact')?.content;
  const phone = (typeof contact === 'string' ? contact : Buffer.from(contact instanceof Uint8Array ? contact : []).toString()).replace(/\D/g, '');
  const account = world.directory.byPn(phone);
  return { jid: account ? pnJid(account.pn) : `${phone}@s.whatsapp.net`, account };
};

/** usync: device lists, LIDs, on-WhatsApp checks, status and disappearing mode. */
export const usyncHandlers: HandlerTable = {
  'iq usync get usync': ({ world, connection }, iq) => {
    const usync = child(iq, 'usync');
    const asked = children(child(usync, 'query')).map((q) => q.tag);
    const list = children(child(usync, 'list')).map((user): BinaryNode => {
      const { jid, account } = resolveUser(world, user);
      const content = asked.flatMap((tag) => {
        const answer = protocols[tag]?.(account, jid);
        return answer ? [answer] : [];
      });
      return { tag: 'user', attrs: { jid }, content };
    });
    connection.send(
      iqResult(iq, [
        {
          tag: 'usync',
          attrs: { ...usync?.attrs, last: 'true', index: '0' },
          content: [
            { tag: 'result', attrs: {}, content: asked.map((tag): BinaryNode => ({ tag, attrs: {} })) },
            { tag: 'list', attrs: {}, content: list },
          ],
        },
      ]),
    );
  },
};
