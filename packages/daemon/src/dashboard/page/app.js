// @ts-check
// The stickerbot dashboard: signs in over Socket.IO's /dashboard namespace, subscribes to
// every session the token may see, and renders what the daemon pushes. The daemon enforces
// roles and session scopes; the page only hides buttons a role cannot use.
// Type-checked against the protocol (packages/daemon/tsconfig.dashboard-page.json): event
// names, command names, arguments and payloads are the protocol's, imported as types only.
/**
 * @import { DashboardAuth, DashboardClientToServerEvents, DashboardCommandArgs, DashboardCommandName, DashboardCommandResult, DashboardServerToClientEvents, JournalStatus, MessageSummary, Result, Session, SessionQr, WireError } from '@stickerbot/protocol'
 * @import { Socket } from '/socket.io/socket.io.esm.min.js'
 */
import { io } from '/socket.io/socket.io.esm.min.js';
import { badge, h, healthLine, journalStrip, messageLine, relative, STATUS_ORDER, statusLabel } from './view.js';

const { document, sessionStorage, atob, setInterval, setTimeout, HTMLInputElement } = globalThis;
/** @type {typeof import('@stickerbot/protocol').DASHBOARD_NAMESPACE} */
const NAMESPACE = '/dashboard';
const TOKEN_KEY = 'stickerbot.token';
const UNREACHABLE = 'Daemon unreachable — reconnecting…';
const SESSION_ID = /^[a-z0-9_-]{1,64}$/;

/** @typedef {Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>} DashboardSocket */
/** What the token says about its holder, for display only. @typedef {{ subject: string, role: string, expiresAt: number | undefined }} Identity */
/** A command that never reached the daemon or got no answer. @typedef {{ ok: false, error: { code: 'UNREACHABLE' | 'TIMEOUT', message: string } }} NotSent */
/** @typedef {{ code?: string, phone?: string, error?: string }} Pairing */

/**
 * An element of index.html (it has them all).
 * @param {string} id
 */
function $(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element;
}

/**
 * An input of index.html.
 * @param {string} id
 */
function inputOf(id) {
  const element = $(id);
  if (!(element instanceof HTMLInputElement)) throw new Error(`#${id} is not an input`);
  return element;
}

/**
 * @type {{
 *   identity: Identity | undefined,
 *   socket: DashboardSocket | undefined,
 *   sessions: Map<string, Session>,
 *   qrs: Map<string, SessionQr>,
 *   messages: Map<string, MessageSummary[]>,
 *   pairing: Map<string, Pairing>,
 *   failures: Map<string, { message: string }>,
 *   subscribed: Set<string>,
 *   live: Set<string>,
 *   selected: string | undefined,
 *   confirmingLogout: boolean,
 *   panelError: string | undefined,
 *   journal: JournalStatus | undefined,
 *   filterText: string,
 *   filterStatus: string | undefined,
 * }}
 */
const state = {
  identity: undefined,
  socket: undefined,
  sessions: new Map(),
  qrs: new Map(),
  messages: new Map(),
  pairing: new Map(),
  failures: new Map(),
  subscribed: new Set(),
  live: new Set(),
  selected: undefined,
  confirmingLogout: false,
  panelError: undefined,
  journal: undefined,
  filterText: '',
  filterStatus: undefined,
};

// One list row per session, kept across events: an event updates its session's row in place
// (a hundred sessions must not rebuild a hundred rows on every message or state change).
/** @type {Map<string, HTMLLIElement>} */
const rows = new Map();

/**
 * What the token says about its holder, for display only (the daemon verifies it).
 * @param {string} token
 * @returns {Identity}
 */
function identityOf(token) {
  const parts = token.split('.');
  const payload = parts[1];
  if (parts.length !== 3 || payload === undefined) return { subject: 'admin', role: 'admin', expiresAt: undefined };
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return { subject: String(claims.sub), role: String(claims.role), expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined };
  } catch {
    return { subject: 'unknown', role: 'viewer', expiresAt: undefined };
  }
}

const canAct = () => state.identity?.role === 'admin' || state.identity?.role === 'operator';

/**
 * @param {string | undefined} text
 * @param {boolean} [bad]
 */
function showBanner(text, bad = false) {
  const banner = $('banner');
  banner.hidden = text === undefined;
  banner.textContent = text ?? '';
  banner.classList.toggle('bad', bad);
}

function resetState() {
  for (const map of [state.sessions, state.qrs, state.messages, state.pairing, state.failures]) map.clear();
  state.subscribed.clear();
  state.live.clear();
  state.selected = undefined;
  state.journal = undefined;
  state.filterStatus = undefined;
  rows.clear();
  $('session-list').replaceChildren();
  state.confirmingLogout = false;
  state.panelError = undefined;
}

/** @param {string} [error] */
function showSignIn(error) {
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').hidden = error === undefined;
  $('sign-in-error').textContent = error ?? '';
  showBanner(undefined);
}

/**
 * Forgets the token (it was kept for this tab only) and returns to the sign-in form.
 * @param {string} [error]
 */
function signOut(error) {
  state.socket?.off();
  state.socket?.io.off();
  state.socket?.disconnect();
  state.socket = undefined;
  state.identity = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  resetState();
  showSignIn(error);
}

function tokenExpired() {
  return state.identity?.expiresAt !== undefined && Date.now() >= state.identity.expiresAt - 1000;
}

/**
 * Sends a dashboard command and waits for its result.
 * @template {DashboardCommandName} N
 * @param {N} op
 * @param {DashboardCommandArgs<N>} args
 * @returns {Promise<Result<DashboardCommandResult<N>> | NotSent>}
 */
async function command(op, args) {
  const socket = state.socket;
  if (!socket?.connected) return { ok: false, error: { code: 'UNREACHABLE', message: 'The daemon is not connected' } };
  // Socket.IO's types cannot follow a generic command name through emitWithAck; this
  // function's signature carries the protocol's types to every call instead.
  const timed = socket.timeout(20_000);
  const emitWithAck = /** @type {(op: N, args: DashboardCommandArgs<N>) => Promise<Result<DashboardCommandResult<N>>>} */ (timed.emitWithAck.bind(timed));
  try {
    return await emitWithAck(op, args);
  } catch {
    return { ok: false, error: { code: 'TIMEOUT', message: 'The daemon did not answer in time' } };
  }
}

/** @param {string} sessionId */
async function subscribe(sessionId) {
  state.subscribed.add(sessionId);
  const result = await command('session:subscribe', { sessionId });
  if (!result.ok) {
    state.subscribed.delete(sessionId);
    state.failures.set(sessionId, result.error);
  } else {
    state.sessions.set(sessionId, result.result.session);
    if (result.result.qr) state.qrs.set(sessionId, result.result.qr);
    if (result.result.messages) state.messages.set(sessionId, result.result.messages);
    state.live.add(sessionId);
  }
  sessionUpdated(sessionId);
}

/**
 * The daemon's wire error when it refused the handshake (Socket.IO puts it in `data`); a
 * network failure carries none.
 * @param {{ data?: unknown }} err
 * @returns {WireError | undefined}
 */
function refusal({ data }) {
  const carriesOne = typeof data === 'object' && data !== null && 'code' in data && typeof data.code === 'string';
  return carriesOne ? /** @type {WireError} */ (data) : undefined;
}

/**
 * Connects with this token and keeps connecting until signed out.
 * @param {string} token
 */
function connect(token) {
  const identity = identityOf(token);
  state.identity = identity;
  /** @type {DashboardAuth} */
  const auth = { token };
  /** @type {DashboardSocket} */
  const socket = io(NAMESPACE, { auth, transports: ['websocket'], reconnectionDelayMax: 5000 });
  state.socket = socket;
  showBanner('Connecting to the daemon…');
  socket.on('connect', () => {
    showBanner(undefined);
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('sign-out').hidden = false;
    $('who').textContent = `${identity.subject} (${identity.role})`;
    $('create-form').hidden = identity.role !== 'admin';
  });
  socket.on('connect_error', (err) => {
    const refused = refusal(err);
    if (refused) return signOut(refused.message);
    showBanner(UNREACHABLE, true);
  });
  socket.on('disconnect', (reason) => {
    state.subscribed.clear();
    state.live.clear();
    if (reason === 'io client disconnect') return;
    if (tokenExpired()) return signOut('Your sign-in token has expired: sign in with a new one');
    showBanner(UNREACHABLE, true);
    // The daemon disconnects everyone when it shuts down; keep trying until it is back.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
  });
  socket.io.on('reconnect_attempt', (attempt) => showBanner(`${UNREACHABLE} (attempt ${attempt})`, true));
  socket.on('session:listed', ({ sessions }) => {
    const ids = new Set(sessions.map((session) => session.id));
    for (const id of [...state.sessions.keys()]) if (!ids.has(id)) state.sessions.delete(id);
    for (const session of sessions) state.sessions.set(session.id, session);
    if (state.selected === undefined || !ids.has(state.selected)) state.selected = sessions[0]?.id;
    render();
    for (const session of sessions) if (!state.subscribed.has(session.id)) void subscribe(session.id);
  });
  socket.on('session:changed', (session) => {
    const known = state.sessions.has(session.id);
    state.sessions.set(session.id, session);
    if (session.status !== 'QR_REQUIRED') state.qrs.delete(session.id);
    if (session.status === 'CONNECTED') state.pairing.delete(session.id);
    if (known) sessionUpdated(session.id);
    else render();
  });
  socket.on('session:qr', (qr) => {
    state.qrs.set(qr.sessionId, qr);
    panelIfSelected(qr.sessionId);
  });
  socket.on('session:error', ({ sessionId, error }) => {
    state.failures.set(sessionId, error);
    panelIfSelected(sessionId);
  });
  socket.on('message:received', (summary) => {
    const list = state.messages.get(summary.sessionId) ?? [];
    list.push(summary);
    state.messages.set(summary.sessionId, list.slice(-20));
    panelIfSelected(summary.sessionId);
  });
  socket.on('journal:status', (status) => {
    state.journal = status;
    $('journal').replaceChildren(...journalStrip(status));
  });
}

/**
 * Whether a session passes the filter (text in its id, number or name; the state chip).
 * @param {Session} session
 */
function matches(session) {
  if (state.filterStatus !== undefined && session.status !== state.filterStatus) return false;
  const text = state.filterText;
  if (text === '') return true;
  const account = session.account;
  return [session.id, account?.phone, account?.jid, account?.name].some((field) => field?.toLowerCase().includes(text));
}

/**
 * Sets an attribute only when it changes (an unchanged row stays untouched).
 * @param {Element} element
 * @param {string} name
 * @param {string | undefined} value
 */
function setAttr(element, name, value) {
  if (value === undefined) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

/**
 * A new list row for a session (filled by {@link fillRow}).
 * @param {string} id
 */
function newRow(id) {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'session',
      'data-session': id,
      onclick: () => select(id),
    },
    h('span', { class: 'top' }, h('span', { class: 'id', text: id }), badge('STOPPED')),
    h('span', { class: 'detail' }),
  );
  return h('li', {}, button);
}

/**
 * Brings a row up to date with its session, touching only what changed.
 * @param {HTMLLIElement} row
 * @param {Session} session
 * @param {number} now epoch ms
 */
function fillRow(row, session, now) {
  const button = /** @type {HTMLElement} */ (row.firstElementChild);
  setAttr(button, 'data-status', session.status);
  setAttr(button, 'data-live', state.live.has(session.id) ? 'true' : undefined);
  setAttr(button, 'aria-current', state.selected === session.id ? 'true' : 'false');
  const oldBadge = button.querySelector('.badge');
  if (oldBadge?.getAttribute('data-status') !== session.status) oldBadge?.replaceWith(badge(session.status));
  const detail = button.querySelector('.detail');
  const text = healthLine(session, now);
  if (detail && detail.textContent !== text) detail.textContent = text;
  const hidden = !matches(session);
  if (row.hidden !== hidden) row.hidden = hidden;
}

/** Counts by state, each a chip that filters the list to that state. */
function renderCounts() {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const session of state.sessions.values()) counts.set(session.status, (counts.get(session.status) ?? 0) + 1);
  /**
   * @param {string | undefined} status
   * @param {string} label
   * @param {number} count
   */
  const chip = (status, label, count) =>
    h(
      'button',
      {
        type: 'button',
        'data-count': status ?? 'ALL',
        'aria-pressed': state.filterStatus === status ? 'true' : 'false',
        onclick: () => {
          state.filterStatus = state.filterStatus === status ? undefined : status;
          applyFilter();
        },
      },
      label,
      h('span', { class: 'n', text: String(count) }),
    );
  const known = /** @type {readonly string[]} */ (STATUS_ORDER);
  const statuses = [...STATUS_ORDER, ...[...counts.keys()].filter((status) => !known.includes(status))];
  const chips = statuses.filter((status) => (counts.get(status) ?? 0) > 0 || state.filterStatus === status).map((status) => chip(status, statusLabel(/** @type {Session['status']} */ (status)), counts.get(status) ?? 0));
  $('session-counts').replaceChildren(chip(undefined, 'all', state.sessions.size), ...chips);
}

/** Shows the rows that pass the filter, hides the rest (no row is rebuilt). */
function applyFilter() {
  const now = Date.now();
  for (const [id, row] of rows) {
    const session = state.sessions.get(id);
    if (session) fillRow(row, session, now);
  }
  renderCounts();
  showEmptyHints();
}

function showEmptyHints() {
  $('no-sessions').hidden = state.sessions.size > 0;
  $('no-match').hidden = state.sessions.size === 0 || [...rows.values()].some((row) => !row.hidden);
}

/**
 * Adds, removes and orders rows to match the sessions (a new or deleted session only).
 * @param {number} now epoch ms
 */
function renderList(now) {
  const list = $('session-list');
  for (const [id, row] of rows) {
    if (state.sessions.has(id)) continue;
    row.remove();
    rows.delete(id);
  }
  let previous = /** @type {Element | null} */ (null);
  for (const session of [...state.sessions.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    let row = rows.get(session.id);
    if (!row) rows.set(session.id, (row = newRow(session.id)));
    fillRow(row, session, now);
    const expected = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expected !== row) {
      if (previous) previous.after(row);
      else list.prepend(row);
    }
    previous = row;
  }
  renderCounts();
  showEmptyHints();
}

/**
 * One session changed: its row, the counts and, if it is the one shown, the panel.
 * @param {string} id
 */
function sessionUpdated(id) {
  const session = state.sessions.get(id);
  const row = rows.get(id);
  if (!session || !row) return render();
  fillRow(row, session, Date.now());
  renderCounts();
  showEmptyHints();
  panelIfSelected(id);
}

/** @param {string} id */
function panelIfSelected(id) {
  if (state.selected === id) renderPanel(Date.now());
}

/** @param {string} id */
function select(id) {
  const previous = state.selected;
  state.selected = id;
  state.confirmingLogout = false;
  state.panelError = undefined;
  const now = Date.now();
  for (const which of [previous, id]) {
    const session = which === undefined ? undefined : state.sessions.get(which);
    const row = which === undefined ? undefined : rows.get(which);
    if (session && row) fillRow(row, session, now);
  }
  renderPanel(now);
}

/**
 * A button's handler: runs `op` on the session and shows what came of it.
 * @param {'session:start' | 'session:stop' | 'session:logout'} op
 * @param {string} sessionId
 */
function act(op, sessionId) {
  return async () => {
    state.panelError = undefined;
    state.confirmingLogout = false;
    const result = await command(op, { sessionId });
    if (!result.ok) state.panelError = `${op.replace('session:', '')} failed: ${result.error.message}`;
    else state.sessions.set(sessionId, result.result.session);
    sessionUpdated(sessionId);
  };
}

/**
 * @param {Session} session
 * @param {number} now epoch ms
 */
function qrSection(session, now) {
  const qr = state.qrs.get(session.id);
  if (session.status !== 'QR_REQUIRED' || qr === undefined) return undefined;
  const left = qr.expiresAt - now;
  return h(
    'div',
    { class: 'qr', 'data-qr': qr.qr },
    h('h3', { text: 'Scan with WhatsApp → Linked devices' }),
    h('img', { src: qr.dataUrl, alt: `QR code for session ${session.id}`, width: 264, height: 264 }),
    h('span', { class: 'countdown', text: left > 0 ? `expires ${relative(qr.expiresAt, now)}` : 'expired, waiting for the next one…' }),
  );
}

/** @param {Session} session */
function pairingSection(session) {
  if (!canAct() || session.status === 'CONNECTED' || session.status === 'LOGGED_OUT') return undefined;
  const pairing = state.pairing.get(session.id);
  const form = h(
    'form',
    {
      class: 'pair',
      onsubmit: async (event) => {
        event.preventDefault();
        const phone = String(new FormData(form).get('phone') ?? '').replace(/\D/g, '');
        const result = await command('session:pair', { sessionId: session.id, phone });
        state.pairing.set(session.id, result.ok ? { code: result.result.code, phone } : { error: result.error.message });
        renderPanel(Date.now());
      },
    },
    h('label', { for: 'pair-phone', text: 'Link with phone number instead (country code first, digits only)' }),
    h('div', { class: 'row' }, h('input', { id: 'pair-phone', name: 'phone', inputmode: 'numeric', placeholder: '4915123456789', required: true }), h('button', { type: 'submit', text: 'Get code' })),
  );
  return h(
    'div',
    {},
    form,
    pairing?.code ? h('div', {}, h('p', { class: 'muted', text: `On the phone: Linked devices → Link with phone number, enter:` }), h('p', { class: 'pairing-code', 'data-code': pairing.code, text: `${pairing.code.slice(0, 4)}-${pairing.code.slice(4)}` })) : undefined,
    pairing?.error ? h('p', { class: 'error', role: 'alert', text: pairing.error }) : undefined,
  );
}

/** @param {Session} session */
function actionsSection(session) {
  if (!canAct()) return h('p', { class: 'muted', text: 'Viewer: you can watch this session but not act on it.' });
  const running = session.status !== 'STOPPED' && session.status !== 'LOGGED_OUT' && session.status !== 'ERROR';
  const buttons = h(
    'div',
    { class: 'actions' },
    // A session waiting its turn to connect after a restart may be started now (it jumps the queue).
    h('button', { type: 'button', 'data-action': 'start', disabled: running && !session.queuedAt, onclick: act('session:start', session.id), text: session.queuedAt ? 'Connect now' : 'Start' }),
    h('button', { type: 'button', class: 'quiet', 'data-action': 'stop', disabled: !running, onclick: act('session:stop', session.id), text: 'Stop' }),
    h('button', {
      type: 'button',
      class: 'danger',
      'data-action': 'logout',
      disabled: session.status === 'LOGGED_OUT',
      onclick: () => {
        state.confirmingLogout = true;
        renderPanel(Date.now());
      },
      text: 'Log out',
    }),
  );
  const confirm = state.confirmingLogout
    ? h(
        'div',
        { class: 'confirm', role: 'alertdialog', 'aria-label': 'Confirm log out' },
        h('p', { text: `Log ${session.id} out of WhatsApp? Its credentials are wiped; linking again needs a new QR or code.` }),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'danger', 'data-action': 'confirm-logout', onclick: act('session:logout', session.id), text: 'Yes, log out' }),
          h('button', {
            type: 'button',
            class: 'quiet',
            onclick: () => {
              state.confirmingLogout = false;
              renderPanel(Date.now());
            },
            text: 'Cancel',
          }),
        ),
      )
    : undefined;
  return h('div', {}, buttons, confirm);
}

/**
 * The pairing form's phone input, when the panel shows one.
 * @param {HTMLElement} panel
 * @returns {HTMLInputElement | null}
 */
const phoneInput = (panel) => panel.querySelector('#pair-phone');

/** @param {number} now epoch ms */
function renderPanel(now) {
  const panel = $('panel');
  const session = state.selected === undefined ? undefined : state.sessions.get(state.selected);
  panel.hidden = session === undefined;
  if (session === undefined) return panel.replaceChildren();
  // Keep a half-typed phone number across re-renders (QR rotations, messages).
  const typed = phoneInput(panel)?.value;
  const failure = state.failures.get(session.id);
  const messages = state.messages.get(session.id) ?? [];
  panel.setAttribute('data-session', session.id);
  const parts = [
    h('div', { class: 'top session' }, h('h2', { text: session.id }), badge(session.status)),
    h('p', { class: 'facts', text: healthLine(session, now) || 'No errors.' }),
    failure ? h('p', { class: 'facts error', text: `Last error: ${failure.message}` }) : undefined,
    qrSection(session, now),
    pairingSection(session),
    actionsSection(session),
    state.panelError ? h('p', { class: 'error', role: 'alert', text: state.panelError }) : undefined,
    h('h3', { text: 'Last messages' }),
    messages.length === 0
      ? h('p', { class: 'muted', text: 'No messages since the daemon started.' })
      : h('ul', { class: 'messages' }, [...messages].reverse().map(messageLine)),
  ];
  panel.replaceChildren(...parts.filter((part) => part !== undefined));
  const input = phoneInput(panel);
  if (typed && input) input.value = typed;
}

function render() {
  const now = Date.now();
  renderList(now);
  renderPanel(now);
}

function start() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = inputOf('token');
    const token = input.value.trim();
    if (token === '') return;
    input.value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    $('sign-in-error').hidden = true;
    connect(token);
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('session-filter').addEventListener('input', () => {
    state.filterText = inputOf('session-filter').value.trim().toLowerCase();
    applyFilter();
  });
  $('create-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = inputOf('new-session');
    const sessionId = input.value.trim();
    const error = $('create-error');
    if (!SESSION_ID.test(sessionId)) {
      error.hidden = false;
      error.textContent = 'Use 1-64 lowercase letters, digits, - or _.';
      return;
    }
    const result = await command('session:create', { sessionId });
    error.hidden = result.ok;
    error.textContent = result.ok ? '' : result.error.message;
    if (result.ok) {
      input.value = '';
      state.selected = sessionId;
      render();
    }
  });
  // Countdowns and "next attempt in" lines move without any event from the daemon.
  setInterval(() => {
    if (state.socket?.connected && state.sessions.size > 0) {
      const qr = state.selected === undefined ? undefined : state.qrs.get(state.selected);
      for (const element of document.querySelectorAll('.countdown')) {
        if (qr) element.textContent = qr.expiresAt > Date.now() ? `expires ${relative(qr.expiresAt, Date.now())}` : 'expired, waiting for the next one…';
      }
      // Only the rows whose line depends on the clock ("next attempt in", "waiting since").
      const now = Date.now();
      for (const session of state.sessions.values()) {
        const ticking = (session.status === 'RECONNECTING' && session.nextRetryAt) || (session.status === 'CONNECTING' && session.queuedAt);
        const row = rows.get(session.id);
        if (ticking && row) fillRow(row, session, now);
      }
    }
    if (state.socket && tokenExpired()) signOut('Your sign-in token has expired: sign in with a new one');
  }, 1000);

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    connect(saved);
  } else {
    showSignIn();
  }
}

start();
