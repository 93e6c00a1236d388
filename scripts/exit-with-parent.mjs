// Preloaded into every child process of `pnpm dev` (scripts/dev.ts adds it to their
// NODE_OPTIONS, so the worker that `tsx watch` starts and restarts gets it too): a process
// whose parent goes away sends itself SIGTERM and so runs its own graceful shutdown (the
// daemon closes its WhatsApp socket without logging out) instead of living on as an
// orphan that keeps the session and the port. Linux has no parent-death signal Node can
// ask for, and a parent killed with SIGKILL can tell nobody, so the child watches:
// - its IPC channel, which closes the moment the parent dies (the daemon, the emulator);
// - its parent pid, which changes when it is re-parented (the tsx watcher, the worker).
// Plain JavaScript: NODE_OPTIONS imports run before tsx's loader is registered, and the
// tsx watcher runs without that loader.
const CHECK_EVERY_MS = 500;
// After the SIGTERM, a process that has not exited by then is hung: the daemon's own
// shutdown budget is well below this.
const FORCE_AFTER_MS = 30_000;

const parent = process.ppid;
let leaving = false;

function leave() {
  if (leaving) return;
  leaving = true;
  clearInterval(check);
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), FORCE_AFTER_MS).unref();
  process.kill(process.pid, 'SIGTERM');
}

const check = setInterval(() => {
  if (process.ppid !== parent) leave();
}, CHECK_EVERY_MS);
check.unref();
process.once('disconnect', leave);
// A forked child whose parent died while it was starting: its channel closed before this
// module ran, so 'disconnect' was emitted to nobody and `parent` above is already the
// process that adopted it.
if (process.send !== undefined && !process.connected) leave();
