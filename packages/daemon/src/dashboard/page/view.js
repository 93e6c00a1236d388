// @ts-check
// DOM builders of the dashboard page. Everything from the daemon is set as text, never as HTML.
/** @import { JournalStatus, MessageSummary, Session, SessionStatus } from '@stickerbot/protocol' */
const { document } = globalThis;

/**
 * An attribute value: `undefined` and `false` leave it out, `true` sets it empty; `on…`
 * attributes take a listener and `text` sets the text content.
 * @typedef {string | number | boolean | undefined | ((event: Event) => unknown)} Attr
 */
/** @typedef {Node | string | undefined | null | false} Child */

/**
 * Creates an element with attributes and children (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, Attr>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** @type {Record<SessionStatus, string>} */
const STATUS_LABELS = {
  STOPPED: 'stopped',
  CONNECTING: 'connecting',
  QR_REQUIRED: 'scan QR',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  LOGGED_OUT: 'logged out',
  ERROR: 'error',
};

/** The states in the order the counts strip shows them. */
export const STATUS_ORDER = /** @type {const} */ (['CONNECTED', 'QR_REQUIRED', 'CONNECTING', 'RECONNECTING', 'ERROR', 'LOGGED_OUT', 'STOPPED']);

/**
 * A status for humans ("scan QR"); a newer daemon's status shows as is.
 * @param {SessionStatus} status
 */
export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status;
}

/**
 * The status badge of a session.
 * @param {SessionStatus} status
 */
export function badge(status) {
  return h('span', { class: 'badge', 'data-status': status, text: statusLabel(status) });
}

/**
 * "in 12 s", "in 3 min", or "now" for a time in the past.
 * @param {number} at epoch ms
 * @param {number} now epoch ms
 */
export function relative(at, now) {
  const seconds = Math.round((at - now) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 120) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

/**
 * How long ago `at` was, for humans ("12 s ago", "3 min ago").
 * @param {number} at epoch ms
 * @param {number} now epoch ms
 */
export function ago(at, now) {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  return `${Math.round(seconds / 60)} min ago`;
}

/**
 * One line about a session's health for the list and the panel.
 * @param {Session} session
 * @param {number} now epoch ms
 */
export function healthLine(session, now) {
  // Queued after a restart: the daemon connects a few sessions at a time.
  if (session.status === 'CONNECTING' && session.queuedAt) {
    const who = session.account ? (session.account.phone ? `+${session.account.phone}` : session.account.jid) : undefined;
    return [who, `waiting for a connect slot since ${ago(session.queuedAt, now)}`].filter(Boolean).join(' · ');
  }
  if (session.status === 'CONNECTED' || (session.account && session.status !== 'LOGGED_OUT')) {
    const account = session.account;
    if (account) return [account.phone ? `+${account.phone}` : account.jid, account.name].filter(Boolean).join(' · ');
  }
  const parts = [];
  if (session.lastError) parts.push(session.lastError.message);
  else if (session.lastDisconnect) parts.push(`closed: ${session.lastDisconnect}`);
  if (session.status === 'RECONNECTING' && session.nextRetryAt) parts.push(`next attempt ${relative(session.nextRetryAt, now)}`);
  if (session.reconnectAttempts > 0) parts.push(`${session.reconnectAttempts} attempt(s)`);
  return parts.join(' · ');
}

/**
 * The journal strip: the journal's end and each consumer group's position, lag and workers.
 * @param {JournalStatus | undefined} status
 */
export function journalStrip(status) {
  if (!status) return [];
  const items = [h('span', { class: 'group', text: `journal at #${status.lastSeq}` })];
  if (status.groups.length === 0) items.push(h('span', { class: 'group', text: 'no worker group yet' }));
  for (const group of status.groups) {
    const workers = group.workers === 1 ? '1 worker' : `${group.workers} workers`;
    items.push(
      h('span', { class: 'group', 'data-group': group.group, text: `${group.group}: #${group.position} · lag ${group.lag} · ${workers}` }),
    );
  }
  return items;
}

/** @param {number} ts epoch ms */
function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * One message summary as one line.
 * @param {MessageSummary} summary
 */
export function messageLine(summary) {
  const who = summary.fromMe ? 'me' : (summary.pushName ?? summary.sender.split('@')[0]);
  const kind = summary.kind === 'text' ? '' : `[${summary.kind}] `;
  return h('li', { 'data-id': summary.id }, h('span', { class: 'when', text: clock(summary.timestamp) }), `${who}: ${kind}${summary.preview}`);
}
