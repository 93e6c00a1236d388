import { randomBytes, randomInt } from 'node:crypto';
import type { BinaryNode } from '@whiskeysockets/baileys';
import { SimProtocolError } from '../errors.js';
import { lidJid, pnJid, type Account } from './accounts.js';

/** A member's rank: the creator is `superadmin`, admins are `admin`, everyone else `member`. */
export type GroupRole = 'superadmin' | 'admin' | 'member';

/**
 * How the group addresses its members: `lid` (what WhatsApp uses for new groups: participants
 * and senders are `…@lid` with the phone number alongside) or `pn` (phone-number JIDs with the
 * LID alongside).
 */
export type AddressingMode = 'lid' | 'pn';

/** One member of a group. */
export interface GroupMember {
  readonly account: Account;
  role: GroupRole;
}

/** A group of the emulated network. */
export interface Group {
  /** The user part of the JID, e.g. `120363012345678901`. */
  readonly id: string;
  /** `<id>@g.us`. */
  readonly jid: string;
  subject: string;
  subjectOwner: Account;
  /** Unix seconds of the last subject change. */
  subjectTime: number;
  /** Unix seconds. */
  readonly creation: number;
  readonly creator: Account;
  readonly addressingMode: AddressingMode;
  /** Members by phone number, in the order they joined. */
  readonly members: Map<string, GroupMember>;
  inviteCode: string;
  /**
   * For each fake phone (by phone number): the companion devices (`pn:device`) it already gave
   * its current sender key to. Emptied when the phone rotates its key.
   */
  readonly distributed: Map<string, Set<string>>;
}

/** A member's address in the group: `lid[:device]@lid` or `pn[:device]@s.whatsapp.net`. */
export const memberJid = (group: Group, account: Account, deviceId = 0): string =>
  group.addressingMode === 'lid' ? lidJid(account.lid, deviceId) : pnJid(account.pn, deviceId);

/** The other address of a member, under the attribute name WhatsApp uses for it (`phone_number` or `lid`). */
const altAttrs = (group: Group, account: Account, names: { pn: string; lid: string }): Record<string, string> =>
  group.addressingMode === 'lid' ? { [names.pn]: pnJid(account.pn) } : { [names.lid]: lidJid(account.lid) };

/** A `<participant>` node as group metadata and `w:gp2` notifications carry it. */
export const participantNode = (group: Group, account: Account, role?: GroupRole): BinaryNode => ({
  tag: 'participant',
  attrs: {
    jid: memberJid(group, account),
    ...altAttrs(group, account, { pn: 'phone_number', lid: 'lid' }),
    ...(role && role !== 'member' ? { type: role } : {}),
  },
});

/** The sender attributes of a stanza from a member: `participant` plus its other address. */
export const senderAttrs = (group: Group, account: Account, deviceId = 0): Record<string, string> => ({
  participant: memberJid(group, account, deviceId),
  ...altAttrs(group, account, { pn: 'participant_pn', lid: 'participant_lid' }),
  addressing_mode: group.addressingMode,
});

/** The `<group>` node of metadata answers (`w:g2` query, participating, invite info, create). */
export function groupNode(group: Group): BinaryNode {
  const creatorAlt: Record<string, string> = group.addressingMode === 'lid' ? { creator_pn: pnJid(group.creator.pn) } : {};
  const subjectAlt: Record<string, string> = group.addressingMode === 'lid' ? { s_o_pn: pnJid(group.subjectOwner.pn) } : {};
  return {
    tag: 'group',
    attrs: {
      id: group.id,
      subject: group.subject,
      s_o: memberJid(group, group.subjectOwner),
      ...subjectAlt,
      s_t: String(group.subjectTime),
      creation: String(group.creation),
      creator: memberJid(group, group.creator),
      ...creatorAlt,
      addressing_mode: group.addressingMode,
      size: String(group.members.size),
    },
    content: [...group.members.values()].map((m) => participantNode(group, m.account, m.role)),
  };
}

/** Options for {@link createGroups}' `create`. */
export interface NewGroup {
  readonly subject: string;
  readonly creator: Account;
  /** Members besides the creator (the creator is always a member and super-admin). */
  readonly members: readonly Account[];
  /** Members who are admins. */
  readonly admins?: readonly Account[];
  readonly addressingMode?: AddressingMode;
}

/** All groups of the emulated network, by JID. */
export function createGroups() {
  const byJid = new Map<string, Group>();
  const newId = (): string => {
    for (;;) {
      const id = `120363${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e3)).padStart(3, '0')}`;
      if (!byJid.has(`${id}@g.us`)) return id;
    }
  };
  return {
    create({ subject, creator, members, admins = [], addressingMode = 'lid' }: NewGroup): Group {
      const now = Math.floor(Date.now() / 1000);
      const id = newId();
      const group: Group = {
        id,
        jid: `${id}@g.us`,
        subject,
        subjectOwner: creator,
        subjectTime: now,
        creation: now,
        creator,
        addressingMode,
        members: new Map<string, GroupMember>([[creator.pn, { account: creator, role: 'superadmin' }]]),
        inviteCode: randomBytes(16).toString('base64url').slice(0, 22),
        distributed: new Map(),
      };
      for (const account of members) {
        if (group.members.has(account.pn)) continue;
        group.members.set(account.pn, { account, role: admins.includes(account) ? 'admin' : 'member' });
      }
      byJid.set(group.jid, group);
      return group;
    },
    /** A group by JID (`…@g.us`) or bare id; undefined when unknown. */
    find: (jidOrId: string): Group | undefined => byJid.get(jidOrId.includes('@') ? jidOrId : `${jidOrId}@g.us`),
    /** A group by JID or id; throws a typed error when unknown. */
    get(jidOrId: string): Group {
      const group = byJid.get(jidOrId.includes('@') ? jidOrId : `${jidOrId}@g.us`);
      if (!group) throw new SimProtocolError('unknown-group', `no group ${jidOrId}`);
      return group;
    },
    byInviteCode: (code: string): Group | undefined => [...byJid.values()].find((g) => g.inviteCode === code),
    /** Groups the account is a member of. */
    of: (account: Account): Group[] => [...byJid.values()].filter((g) => g.members.has(account.pn)),
  };
}

export type Groups = ReturnType<typeof createGroups>;
