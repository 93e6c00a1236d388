import type { BinaryNode } from '@whiskeysockets/baileys';
import type { Account } from '../directory/accounts.js';
import { groupNode, participantNode, senderAttrs, type Group, type GroupRole } from '../directory/groups.js';
import { newMessageId } from '../pairing/qr-pairing.js';
import { senderKeyAuthor } from '../e2e/phone-send.js';
import type { HandlerContext, HandlerTable } from '../server/router.js';
import { child, children, iqError, iqResult, unixNow } from '../server/nodes.js';
import { deliverToCompanion, type World } from '../server/world.js';

/** A change to a group's participants, as a `w:gp2` notification names it. */
export type ParticipantAction = 'add' | 'remove' | 'promote' | 'demote';

/**
 * Sends a `w:gp2` notification about `group` to every companion of its members (and of
 * `alsoTo`, e.g. members just removed), acted by `actor`.
 */
export function notifyGroup(world: World, group: Group, actor: Account, content: BinaryNode, alsoTo: readonly Account[] = []): void {
  const recipients = new Set([...[...group.members.values()].map((m) => m.account), ...alsoTo]);
  const id = newMessageId();
  for (const account of recipients) {
    for (const companion of account.companions.values()) {
      deliverToCompanion(world, account.pn, companion.deviceId, {
        tag: 'notification',
        attrs: { from: group.jid, type: 'w:gp2', id, t: unixNow(), ...senderAttrs(group, actor), notify: actor.pushName },
        content: [content],
      });
    }
  }
}

/**
 * Applies a participant change and notifies the members. Members who leave make every
 * remaining fake phone rotate its sender key (as WhatsApp clients do), so a removed member
 * cannot read what follows.
 */
export function changeParticipants(world: World, group: Group, actor: Account, action: ParticipantAction, accounts: readonly Account[]): void {
  const affected: Account[] = [];
  for (const account of accounts) {
    const member = group.members.get(account.pn);
    if (action === 'add') {
      if (member) continue;
      group.members.set(account.pn, { account, role: 'member' });
    } else if (!member) {
      continue;
    } else if (action === 'remove') {
      group.members.delete(account.pn);
    } else {
      if (member.role === 'superadmin') continue;
      member.role = action === 'promote' ? 'admin' : 'member';
    }
    affected.push(account);
  }
  if (affected.length === 0) return;
  if (action === 'remove') {
    for (const { account } of group.members.values()) {
      account.primary.senderKeys.rotate(group.jid, senderKeyAuthor(account, 0));
      group.distributed.delete(account.pn);
    }
  }
  const role = (a: Account): GroupRole | undefined => (action === 'promote' ? 'admin' : group.members.get(a.pn)?.role);
  notifyGroup(
    world,
    group,
    actor,
    { tag: action, attrs: {}, content: affected.map((a) => participantNode(group, a, role(a))) },
    action === 'remove' ? affected : [],
  );
}

/** Changes the subject and notifies the members. */
export function changeSubject(world: World, group: Group, actor: Account, subject: string): void {
  group.subject = subject;
  group.subjectOwner = actor;
  group.subjectTime = Math.floor(Date.now() / 1000);
  notifyGroup(world, group, actor, {
    tag: 'subject',
    attrs: { subject, s_o: senderAttrs(group, actor).participant ?? '', s_t: String(group.subjectTime) },
  });
}

const requester = ({ world, connection }: HandlerContext): Account | undefined =>
  connection.login ? world.directory.byPn(connection.login.pn) : undefined;

const isAdmin = (group: Group, account: Account): boolean => {
  const role = group.members.get(account.pn)?.role;
  return role === 'admin' || role === 'superadmin';
};

/**
 * The group the iq is addressed to, if the requester may see it; otherwise answers the iq
 * with WhatsApp's error (404 unknown group, 403 not a member, 401 not an admin) and returns undefined.
 */
function groupFor(ctx: HandlerContext, iq: BinaryNode, needAdmin: boolean): { group: Group; account: Account } | undefined {
  const account = requester(ctx);
  const group = ctx.world.groups.find(iq.attrs.to ?? '');
  if (!account || !group) {
    ctx.connection.send(iqError(iq, 404, 'item-not-found'));
    return undefined;
  }
  if (!group.members.has(account.pn)) {
    ctx.connection.send(iqError(iq, 403, 'forbidden'));
    return undefined;
  }
  if (needAdmin && !isAdmin(group, account)) {
    ctx.connection.send(iqError(iq, 401, 'not-authorized'));
    return undefined;
  }
  return { group, account };
}

const participantsSet = (action: ParticipantAction) => (ctx: HandlerContext, iq: BinaryNode) => {
  const target = groupFor(ctx, iq, true);
  if (!target) return;
  const jids = children(child(iq, action)).map((p) => p.attrs.jid ?? '');
  const accounts: Account[] = [];
  const results = jids.map((jid): BinaryNode => {
    const account = ctx.world.directory.byJid(jid);
    if (!account) return { tag: 'participant', attrs: { jid, error: '404' } };
    accounts.push(account);
    return { tag: 'participant', attrs: { jid } };
  });
  ctx.connection.send(iqResult(iq, [{ tag: action, attrs: {}, content: results }]));
  changeParticipants(ctx.world, target.group, target.account, action, accounts);
};

/** `w:g2` iqs: metadata, participating groups, invite codes and info, and the changes a member or admin makes. */
export const groupHandlers: HandlerTable = {
  'iq w:g2 get query': (ctx, iq) => {
    const target = groupFor(ctx, iq, false);
    if (target) ctx.connection.send(iqResult(iq, [groupNode(target.group)]));
  },
  'iq w:g2 get participating': (ctx, iq) => {
    const account = requester(ctx);
    const groups = account ? ctx.world.groups.of(account) : [];
    ctx.connection.send(iqResult(iq, [{ tag: 'groups', attrs: {}, content: groups.map(groupNode) }]));
  },
  'iq w:g2 get invite': (ctx, iq) => {
    const code = child(iq, 'invite')?.attrs.code;
    if (code) {
      // groupGetInviteInfo: anyone with the code may look.
      const group = ctx.world.groups.byInviteCode(code);
      ctx.connection.send(group ? iqResult(iq, [groupNode(group)]) : iqError(iq, 406, 'not-acceptable'));
      return;
    }
    const target = groupFor(ctx, iq, true);
    if (target) ctx.connection.send(iqResult(iq, [{ tag: 'invite', attrs: { code: target.group.inviteCode } }]));
  },
  'iq w:g2 set subject': (ctx, iq) => {
    const target = groupFor(ctx, iq, false);
    if (!target) return;
    const content = child(iq, 'subject')?.content;
    const subject = content instanceof Uint8Array ? Buffer.from(content).toString('utf8') : typeof content === 'string' ? content : '';
    ctx.connection.send(iqResult(iq));
    changeSubject(ctx.world, target.group, target.account, subject);
  },
  'iq w:g2 set leave': (ctx, iq) => {
    const account = requester(ctx);
    const ids = children(child(iq, 'leave')).map((g) => g.attrs.id ?? '');
    ctx.connection.send(iqResult(iq, [{ tag: 'leave', attrs: {}, content: ids.map((id) => ({ tag: 'group', attrs: { id } })) }]));
    for (const id of ids) {
      const group = ctx.world.groups.find(id);
      if (account && group?.members.has(account.pn)) changeParticipants(ctx.world, group, account, 'remove', [account]);
    }
  },
  'iq w:g2 set create': (ctx, iq) => {
    const account = requester(ctx);
    const create = child(iq, 'create');
    if (!account || !create) {
      ctx.connection.send(iqError(iq, 400, 'bad-request'));
      return;
    }
    const members = children(create).flatMap((p) => {
      const member = ctx.world.directory.byJid(p.attrs.jid ?? '');
      return member ? [member] : [];
    });
    const group = ctx.world.groups.create({ subject: create.attrs.subject ?? '', creator: account, members });
    ctx.connection.send(iqResult(iq, [groupNode(group)]));
    notifyGroup(ctx.world, group, account, { tag: 'create', attrs: {}, content: [groupNode(group)] });
  },
  'iq w:g2 set add': participantsSet('add'),
  'iq w:g2 set remove': participantsSet('remove'),
  'iq w:g2 set promote': participantsSet('promote'),
  'iq w:g2 set demote': participantsSet('demote'),
};
