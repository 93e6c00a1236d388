import type { Account } from '../directory/accounts.js';
import { buildAccountContent } from '../e2e/account-content.js';
import { SimProtocolError } from '../errors.js';
import type { World } from '../server/world.js';
import type { SimGroup, SimGroups } from './groups.js';

/** Sizes of a realistic account (see {@link provisionRealisticAccount}); the defaults are what a real number brings. */
export interface RealisticAccountOptions {
  /** Address-book contacts, each with a LID (mapped in the history sync and the app state). Default 300. */
  readonly contacts?: number;
  /** Groups the account is a member of. Default 30. */
  readonly groups?: number;
  /** Members of each group, the account included. Default 40. */
  readonly groupSize?: number;
  /** Messages in the initial history sync, over a third of the contacts' chats and every group. Default 1000. */
  readonly historyMessages?: number;
  /**
   * Contacts are drawn from a pool of this many phone numbers shared by every realistic account
   * of the emulator (so 100 accounts do not make 30,000 fake phones). Default 1000, at least `contacts`.
   */
  readonly contactPool?: number;
}

/** What {@link provisionRealisticAccount} made. */
export interface RealisticAccount {
  readonly pn: string;
  readonly lid: string;
  /** Phone numbers of the contacts (fake phones: `sim.phone(pn)` sends from one). */
  readonly contacts: readonly string[];
  readonly groups: readonly SimGroup[];
  readonly historyMessages: number;
  /** App-state patches per collection. */
  readonly appStatePatches: Readonly<Record<string, number>>;
}

const CONTACT_PREFIX = '4917';

/**
 * Gives account `pn` what a real number brings to a newly linked companion: contacts with LIDs,
 * groups of fake phones, an initial history sync and app state. The content is sent to every
 * companion that links from now on (key share, history chunks, `groups` dirty bit; the
 * collections on `w:sync:app:state`). Call it before the companion links.
 */
export function provisionRealisticAccount(world: World, groups: SimGroups, pn: string, options: RealisticAccountOptions = {}): RealisticAccount {
  const contactCount = options.contacts ?? 300;
  const groupCount = options.groups ?? 30;
  const groupSize = options.groupSize ?? 40;
  const historyMessages = options.historyMessages ?? 1000;
  const pool = Math.max(options.contactPool ?? 1000, contactCount);
  for (const [name, value] of Object.entries({ contacts: contactCount, groups: groupCount, historyMessages, contactPool: pool })) {
    if (!Number.isInteger(value) || value < 0) throw new SimProtocolError('bad-request', `${name} must be a whole number ≥ 0, got ${value}`);
  }
  if (!Number.isInteger(groupSize) || groupSize < 2 || groupSize - 1 > contactCount) {
    throw new SimProtocolError('bad-request', `groupSize must be 2..contacts + 1, got ${groupSize}`);
  }
  if (pool > 1e8) throw new SimProtocolError('bad-request', `contactPool must be at most 100,000,000, got ${pool}`);
  if (world.content.has(pn)) throw new SimProtocolError('bad-request', `${pn} is already a realistic account`);
  const bot = world.directory.ensure(pn);
  // Each account starts at another place in the shared pool, so address books overlap as people's do.
  const offset = (world.content.size * 97) % pool;
  const contacts: Account[] = [];
  for (let i = 0; i < contactCount; i++) {
    const index = (offset + i) % pool;
    const contactPn = `${CONTACT_PREFIX}${String(index).padStart(8, '0')}`;
    contacts.push(world.directory.ensure(contactPn, `Contact ${String(index).padStart(4, '0')}`));
  }
  const made: SimGroup[] = [];
  for (let g = 0; g < groupCount; g++) {
    const members = Array.from({ length: groupSize - 1 }, (_, i) => contacts[(g * 7 + i) % contacts.length]?.pn ?? '');
    const [creator = '', admin = ''] = members;
    made.push(groups.create({ subject: `Group ${g + 1} of ${pn.slice(-4)}`, creator, members: [...members.slice(1), pn], admins: admin ? [admin] : [] }));
  }
  const content = buildAccountContent({
    bot,
    contacts,
    groups: made.map((group) => world.groups.get(group.jid)),
    historyMessages,
    now: Math.floor(Date.now() / 1000),
  });
  world.content.set(pn, content);
  return {
    pn,
    lid: bot.lid,
    contacts: contacts.map((contact) => contact.pn),
    groups: made,
    historyMessages,
    appStatePatches: Object.fromEntries([...content.appState].map(([name, patches]) => [name, patches.length])),
  };
}
