import type { Account } from '../directory/accounts.js';
import { groupNode, memberJid, type AddressingMode, type Group, type GroupRole } from '../directory/groups.js';
import { SimProtocolError } from '../errors.js';
import { changeParticipants, changeSubject, notifyGroup, type ParticipantAction } from '../handlers/groups.js';
import type { World } from '../server/world.js';

/** Options for {@link SimGroups.create}. */
export interface CreateGroupOptions {
  readonly subject: string;
  /** Phone number of the creator (super-admin); a fake phone or the bot. */
  readonly creator: string;
  /** Phone numbers of the other members: fake phones and/or the bot's number. */
  readonly members: readonly string[];
  /** Members (phone numbers) who are admins. */
  readonly admins?: readonly string[];
  /** `lid` (default, as WhatsApp creates groups today) or `pn`. */
  readonly addressingMode?: AddressingMode;
}

/** A group of the emulated network, as tests drive it. Actions by `by` (a member's phone number) notify every member's companions (`w:gp2`). */
export interface SimGroup {
  /** `…@g.us`, the `remoteJid` of the bot's group messages. */
  readonly jid: string;
  readonly subject: string;
  readonly addressingMode: AddressingMode;
  /** Phone numbers of the members, in join order. */
  readonly members: readonly string[];
  readonly inviteCode: string;
  /** A member's role, or undefined when not a member. */
  roleOf(pn: string): GroupRole | undefined;
  /** A member's address in this group (`participant` of its messages): its LID in `lid` groups, its phone JID otherwise. */
  memberJid(pn: string): string;
  add(by: string, pns: readonly string[]): void;
  remove(by: string, pns: readonly string[]): void;
  promote(by: string, pns: readonly string[]): void;
  demote(by: string, pns: readonly string[]): void;
  /** `pn` leaves the group (a `remove` notification acted by the member itself). */
  leave(pn: string): void;
  setSubject(by: string, subject: string): void;
}

/** The group part of the control API. */
export interface SimGroups {
  /**
   * Creates a group; every member's companion gets the `create` notification (Baileys emits
   * `groups.upsert`) and can query the metadata.
   */
  create(options: CreateGroupOptions): SimGroup;
  /** A group created earlier (by the emulator or by a client's `groupCreate`), by JID or id. */
  get(jid: string): SimGroup;
}

export function createGroupControl(world: World): SimGroups {
  const accountOf = (pn: string): Account => {
    const account = world.directory.byPn(pn);
    if (!account) throw new SimProtocolError('unknown-account', `no account ${pn}; create its phone first`);
    return account;
  };
  const memberOf = (group: Group, pn: string): Account => {
    const member = group.members.get(pn);
    if (!member) throw new SimProtocolError('not-a-member', `${pn} is not a member of ${group.jid}`);
    return member.account;
  };
  const handle = (group: Group): SimGroup => {
    const change = (action: ParticipantAction) => (by: string, pns: readonly string[]) =>
      changeParticipants(world, group, memberOf(group, by), action, pns.map(accountOf));
    return {
      jid: group.jid,
      get subject() {
        return group.subject;
      },
      addressingMode: group.addressingMode,
      get members() {
        return [...group.members.keys()];
      },
      get inviteCode() {
        return group.inviteCode;
      },
      roleOf: (pn) => group.members.get(pn)?.role,
      memberJid: (pn) => memberJid(group, accountOf(pn)),
      add: change('add'),
      remove: change('remove'),
      promote: change('promote'),
      demote: change('demote'),
      leave: (pn) => changeParticipants(world, group, memberOf(group, pn), 'remove', [memberOf(group, pn)]),
      setSubject: (by, subject) => changeSubject(world, group, memberOf(group, by), subject),
    };
  };
  return {
    create(options) {
      const creator = accountOf(options.creator);
      const members = options.members.map(accountOf);
      const admins = (options.admins ?? []).map(accountOf);
      const group = world.groups.create({
        subject: options.subject,
        creator,
        members,
        admins,
        ...(options.addressingMode ? { addressingMode: options.addressingMode } : {}),
      });
      notifyGroup(world, group, creator, { tag: 'create', attrs: {}, content: [groupNode(group)] });
      return handle(group);
    },
    get: (jid) => handle(world.groups.get(jid)),
  };
}
