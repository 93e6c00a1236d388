/**
 * The data folder holds the WhatsApp credentials (noise key, Signal identity and session
 * keys) in `daemon.sqlite`, beside the worker's `worker.sqlite`: whoever can read it can
 * take over the linked device. So the folder is 0700 and every file in it 0600, whatever the umask, and a folder left looser
 * by an older version (or created by hand, or by pm2 for its logs) is tightened at start.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** Mode of the data folder and every folder in it. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in the data folder. */
export const PRIVATE_FILE_MODE = 0o600;

// POSIX permission bits mean nothing on Windows (the folder's ACL decides there).
const hasPosixModes = process.platform !== 'win32';

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

function tighten(path: string, stat: Stats, mode: number, log: Pick<Logger, 'warn'> | undefined): void {
  // A file of another user is not ours to change (nor can we, unless root).
  if (process.getuid !== undefined && stat.uid !== process.getuid()) return;
  const current = stat.mode & 0o777;
  if ((current & 0o077) === 0) return;
  chmodSync(path, mode);
  log?.warn({ path, mode: current.toString(8), now: mode.toString(8) }, 'other users could read this in the data folder; its mode is tightened');
}

function tightenTree(path: string, log: Pick<Logger, 'warn'> | undefined): void {
  // lstat: a symlink's target lies outside the folder and is left alone.
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return;
  if (stat.isDirectory()) {
    tighten(path, stat, PRIVATE_DIR_MODE, log);
    for (const name of readdirSync(path)) tightenTree(join(path, name), log);
  } else if (stat.isFile()) {
    tighten(path, stat, PRIVATE_FILE_MODE, log);
  }
}

/**
 * Creates the data folder with mode 0700 if it is missing; otherwise tightens it, every
 * folder in it to 0700 and every file to 0600 (files of this user; symlinks are left
 * alone), with a warning naming each path and its old mode.
 */
export function ensurePrivateDataDir(dir: string, log?: Pick<Logger, 'warn'>): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!hasPosixModes) return;
  tightenTree(dir, log);
}

/**
 * Sets mode 0600 on each of `files` that exists (an SQLite database and its `-wal` and
 * `-shm`, which SQLite creates with the umask's mode on some paths and the database
 * file's mode on others).
 */
export function restrictToOwner(files: readonly string[]): void {
  if (!hasPosixModes) return;
  for (const file of files) {
    try {
      chmodSync(file, PRIVATE_FILE_MODE);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
}
