// @ts-check
/**
 * Runs the daemon or the worker from its TypeScript source with plain Node, without tsx's
 * loader: `packages/<app>/src/main.ts` and the workspace code it imports are bundled by
 * esbuild into one ES module (node_modules/.cache/stickerbot/<app>/), which is then
 * imported. Dependencies stay outside the bundle, loaded by Node from node_modules as
 * usual; stack traces point at the TypeScript files (inline source map).
 *
 * Why: tsx's loader costs about 270 ms before the first line runs, slows every import after
 * it and stays in memory (its hooks thread and esbuild): a worker is connected in 0.35 s
 * instead of 0.7 s (a restart is what users wait for: `pm2 reload`, a crash, an edit in
 * `pnpm dev`), and the daemon holds about 55 MB less (tsx's hooks thread and esbuild). The
 * bundle is cached and rebuilt (about 0.2 s) only when a file it was built from, this
 * script or the installed dependencies changed, so there is still no build step to forget.
 *
 *   node scripts/run.mjs daemon           the daemon (pnpm daemon, pm2)
 *   node scripts/run.mjs worker           the worker (pnpm worker, pm2, the tests)
 *   node scripts/run.mjs worker --watch   pnpm dev: rebuilds on every saved change and
 *                                         restarts the worker (see watch() below)
 *
 * The worker's converters (the sticker engine's child processes) still run under tsx: they
 * start in the background and are not what a restart waits for.
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, watch as watchPath, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** @returns {never} */
function usage() {
  process.stderr.write('usage: node scripts/run.mjs daemon | worker [--watch]\n');
  process.exit(2);
}
const [app, MODE] = process.argv.slice(2);
const APP = app === 'daemon' || app === 'worker' ? app : usage();
// Only the worker restarts on an edit (`--spare` is its watcher's helper): the daemon holds
// the WhatsApp connection.
if (MODE !== undefined && (APP === 'daemon' || (MODE !== '--watch' && MODE !== '--spare'))) usage();
const ENTRY = join(ROOT, `packages/${APP}/src/main.ts`);
const CACHE = join(ROOT, 'node_modules/.cache/stickerbot', APP);
const MANIFEST = join(CACHE, 'manifest.json');
const EXIT_WITH_PARENT = pathToFileURL(join(ROOT, 'scripts/exit-with-parent.mjs')).href;
/** Not bundled, but a change means other dependency files: the bundle names them by path. */
const INSTALL_STATE = [join(ROOT, 'pnpm-lock.yaml'), join(ROOT, 'node_modules/.modules.yaml')];
/** What the worker loads at run time rather than imports: its converters' engine and its migrations. */
const WATCH_TOO = [join(ROOT, 'packages/sticker/src'), join(ROOT, 'packages/worker/src/db/migrations')];
/** Bundles no manifest names any more are removed once this old (a process may still be loading one). */
const PRUNE_AFTER_MS = 10 * 60_000;

/**
 * Workspace TypeScript is bundled; every other bare import stays external, as the file
 * URL esbuild resolves from the importing file (pnpm gives each package its own
 * node_modules, so a path relative to the bundle would find nothing). Each module's
 * `import.meta.url` stays its own source file's, so paths built from it (the worker's
 * migrations, the converters' entry) are what they are when run from source.
 * @type {import('esbuild').Plugin}
 */
const sourceLayout = {
  name: 'stickerbot-source-layout',
  setup(build) {
    // A rebuild in watch mode asks again for every file and import: unchanged ones are
    // answered from here (esbuild then reuses what it parsed), so it costs what changed.
    /** @type {Map<string, import('esbuild').OnResolveResult>} */
    const resolved = new Map();
    /** @type {Map<string, { mtimeMs: number, contents: string }>} */
    const loaded = new Map();
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'resolving' || args.path.startsWith('@stickerbot/') || args.path.startsWith('node:')) return undefined;
      const key = `${args.kind}\0${args.resolveDir}\0${args.path}`;
      const known = resolved.get(key);
      if (known) return known;
      const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (found.errors.length > 0) return { errors: found.errors };
      const result = { path: pathToFileURL(found.path).href, external: true };
      resolved.set(key, result);
      return result;
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const { mtimeMs } = await stat(args.path);
      let file = loaded.get(args.path);
      if (file?.mtimeMs !== mtimeMs) {
        const source = await readFile(args.path, 'utf8');
        file = { mtimeMs, contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)) };
        loaded.set(args.path, file);
      }
      return { contents: file.contents, loader: 'ts' };
    });
  },
};

/** @type {import('esbuild').BuildOptions & { write: false, metafile: true }} */
const OPTIONS = {
  entryPoints: [ENTRY],
  outfile: join(CACHE, `${APP}.mjs`),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@stickerbot/source'],
  sourcemap: 'inline',
  sourcesContent: false,
  plugins: [sourceLayout],
  write: false,
  metafile: true,
  logLevel: 'silent',
};

/**
 * @typedef {{ path: string, mtimeMs: number, size: number }} Stamp
 * @typedef {{ entry: string, bundle: string, preload: string[], inputs: Stamp[] }} Manifest
 */

/** @param {string} path @returns {Stamp | undefined} */
function stamp(path) {
  try {
    const { mtimeMs, size } = statSync(path);
    return { path, mtimeMs, size };
  } catch {
    return undefined;
  }
}

/** @param {Manifest} manifest */
function isFresh(manifest) {
  return (
    // A copied checkout (cp -a, a container layer) brings the cache of the one it came from.
    manifest.entry === ENTRY &&
    existsSync(manifest.bundle) &&
    manifest.inputs.every((recorded) => {
      const now = stamp(recorded.path);
      return now !== undefined && now.mtimeMs === recorded.mtimeMs && now.size === recorded.size;
    })
  );
}

/** Writes `contents` to `path` whole or not at all (readers in other processes never see half a file). */
function writeAtomically(/** @type {string} */ path, /** @type {string | Uint8Array} */ contents) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/** Removes bundles other than `keep` that no process can still be loading. */
function prune(/** @type {string} */ keep) {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (path === keep || path === MANIFEST || !/\.mjs$|\.tmp$/.test(name)) continue;
    const age = Date.now() - (stamp(path)?.mtimeMs ?? Date.now());
    if (age > PRUNE_AFTER_MS) rmSync(path, { force: true });
  }
}

/**
 * Turns a build result into a bundle file named by its content, and the manifest that
 * says what it was built from. `startedAt`: a file modified after it may have been read
 * before or after the change, so such a build is used but not recorded as fresh.
 * @param {import('esbuild').BuildResult<{ write: false, metafile: true }>} result
 * @param {number} startedAt
 * @returns {Manifest}
 */
function store(result, startedAt) {
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for the ${APP}`);
  mkdirSync(CACHE, { recursive: true });
  const bundle = join(CACHE, `${APP}-${createHash('sha256').update(output.contents).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(bundle)) writeAtomically(bundle, output.contents);
  const preload = Object.values(result.metafile.outputs).flatMap((out) => out.imports.filter((i) => i.external && i.path.startsWith('file:')).map((i) => i.path));
  const sources = Object.keys(result.metafile.inputs).map((input) => resolve(ROOT, input));
  const inputs = [...sources, SELF, ...INSTALL_STATE].map(stamp).filter((s) => s !== undefined);
  /** @type {Manifest} */
  const manifest = { entry: ENTRY, bundle, preload: [...new Set(preload)], inputs };
  if (inputs.every((input) => input.mtimeMs < startedAt)) writeAtomically(MANIFEST, JSON.stringify(manifest));
  return manifest;
}

/** Says why a build failed the way esbuild would, with file:line of each error. */
class BuildFailed extends Error {
  /** @param {string[]} lines esbuild's formatted messages */
  constructor(lines) {
    super(`the ${APP}'s source does not build:\n${lines.join('\n').trimEnd()}`);
    this.name = 'BuildFailed';
  }
}

/** @template T @param {() => Promise<T>} run @returns {Promise<T>} */
async function reportingBuildErrors(run) {
  try {
    return await run();
  } catch (error) {
    const errors = /** @type {{ errors?: import('esbuild').Message[] }} */ (error).errors;
    if (!errors || errors.length === 0) throw error;
    const { formatMessages } = await import('esbuild');
    throw new BuildFailed(await formatMessages(errors, { kind: 'error', color: false }));
  }
}

/** The bundle of the current source: the cached one when nothing changed since it was built. */
async function freshBundle() {
  try {
    /** @type {Manifest} */
    const cached = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    if (isFresh(cached)) return cached;
  } catch {
    // No manifest yet, or a damaged one: build.
  }
  const startedAt = Date.now();
  // esbuild itself (about 0.1 s to load) only when there is something to build; its service
  // process is stopped after the build, not left beside the app with the app's environment.
  const { build, stop } = await import('esbuild');
  let manifest;
  try {
    manifest = store(await reportingBuildErrors(() => build(OPTIONS)), startedAt);
  } finally {
    await stop();
  }
  prune(manifest.bundle);
  return manifest;
}

/** Runs a bundle in this process. Source maps are switched on first, so errors name the .ts lines. */
async function run(/** @type {string} */ bundle) {
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundle).href);
}

/**
 * `--spare`, a child of `--watch`: loads the dependencies the worker imports (most of a
 * start's time), then waits for the bundle to run. The watcher keeps one ready, so an
 * edit goes live in the time it takes to evaluate the worker's own code and connect.
 */
function spare() {
  /** @type {Promise<unknown> | undefined} */
  let preloaded;
  process.on('message', (/** @type {{ preload?: string[], run?: string }} */ message) => {
    if (message.preload) preloaded = Promise.all(message.preload.map((url) => import(url)));
    const bundle = message.run;
    if (bundle) void (preloaded ?? Promise.resolve()).then(() => run(bundle));
  });
}

/**
 * `--watch`, what `pnpm dev` runs instead of `tsx watch`: builds, runs the worker as a
 * child, and on every saved change to a file the bundle was built from (and the sticker
 * engine and the migrations, which the worker loads at run time) rebuilds, stops the
 * worker with SIGTERM (its graceful shutdown: the daemon replays what it had not
 * acknowledged), and hands the new bundle to the spare. A change that does not build is
 * reported and the running worker is kept. SIGTERM/SIGINT to this process stop the worker
 * first; a worker that exits on its own is reported and restarted at the next change.
 */
async function watch() {
  const context = await (await import('esbuild')).context(OPTIONS);
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let worker;
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let ready;
  /** @type {Manifest | undefined} */
  let current;
  /** @type {Map<string, import('node:fs').FSWatcher>} */
  const watchers = new Map();
  let rebuilding = false;
  let again = false;
  let stopping = false;
  const say = (/** @type {string} */ text) => process.stderr.write(`[run ${APP}] ${text}\n`);

  /** Every process forked here and not exited yet: `stop` ends them all, whatever role they had. */
  const children = new Set();
  const startSpare = () => {
    // A worker never outlives its watcher (exit-with-parent.mjs: SIGTERM to itself, so a graceful stop).
    const child = fork(SELF, [APP, '--spare'], { stdio: 'inherit', execArgv: ['--import', EXIT_WITH_PARENT] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    child.send({ preload: current?.preload ?? [] });
    return child;
  };

  const startWorker = () => {
    const manifest = current;
    if (!manifest) return;
    worker = ready ?? startSpare();
    ready = undefined;
    const child = worker;
    child.send({ run: manifest.bundle });
    child.once('exit', (code, signal) => {
      if (child !== worker || stopping) return;
      worker = undefined;
      say(`the worker exited (${code ?? signal}); it starts again at the next saved change`);
    });
    // The next spare loads once this worker has started, not while it does.
    child.once('message', () => {
      if (child === worker && !ready && !stopping) ready = startSpare();
    });
  };

  const stopWorker = async () => {
    const child = worker;
    worker = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await gone;
  };

  const follow = (/** @type {Manifest} */ manifest) => {
    const sources = manifest.inputs.filter(({ path }) => path.endsWith('.ts') && !path.includes('node_modules'));
    const dirs = new Set([...WATCH_TOO, ...sources.map(({ path }) => dirname(path))]);
    for (const [dir, watcher] of watchers) {
      if (dirs.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (watchers.has(dir) || !existsSync(dir)) continue;
      watchers.set(dir, watchPath(dir, { recursive: WATCH_TOO.includes(dir) }, (_event, name) => changed(join(dir, String(name ?? '')))));
    }
  };

  /** @type {NodeJS.Timeout | undefined} */
  let settle;
  const changed = (/** @type {string} */ path) => {
    if (stopping || !/\.(ts|sql|mjs|json)$/.test(path)) return;
    // Editors save in more than one write: act once they are done.
    clearTimeout(settle);
    settle = setTimeout(() => void rebuild(relative(ROOT, path)), 15);
  };

  const rebuild = async (/** @type {string} */ why) => {
    if (rebuilding) return void (again = true);
    rebuilding = true;
    try {
      const startedAt = Date.now();
      const result = await reportingBuildErrors(() => context.rebuild());
      current = store(result, startedAt);
      prune(current.bundle);
      follow(current);
      say(`${why} changed: restarting the worker`);
      await stopWorker();
      if (!stopping) startWorker();
    } catch (error) {
      say(error instanceof BuildFailed ? `${error.message}\nthe worker keeps running the code it has; fix the error and save again` : `rebuild failed: ${String(error)}`);
    } finally {
      rebuilding = false;
      if (again && !stopping) {
        again = false;
        void rebuild(why);
      }
    }
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const watcher of watchers.values()) watcher.close();
    // Spares run nothing yet: no shutdown to wait for.
    for (const child of children) if (child !== worker) child.kill('SIGKILL');
    ready = undefined;
    await stopWorker();
    await context.dispose();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  current = store(await reportingBuildErrors(() => context.rebuild()), Date.now());
  follow(current);
  startWorker();
}

/**
 * Applies `STICKERBOT_DAEMON_V8_FLAGS` (space-separated `--flag[=value]`; unset or empty: V8's
 * defaults, which the daemon runs with) in the daemon's own process before its code runs; a
 * value that is not a list of flags is refused. Set here rather than on Node's command line so
 * that every way of starting the daemon (pm2, `pnpm daemon`, the benchmarks) takes them, and
 * for flags Node refuses in `NODE_OPTIONS` (`--heap-growing-percent`: V8 reads it at each GC,
 * so setting it now is as good as the command line). The daemon ran with
 * `--heap-growing-percent=20` until its heap per session shrank (issue #16, seventh round):
 * 100 sessions then held 300 MB instead of 390 once linked, but reached the same ~375 MB under
 * traffic only slowly, and that slow climb is what a growth bound sees ("Where the memory
 * goes" in packages/daemon/README.md).
 */
function applyDaemonV8Flags() {
  const flags = (process.env.STICKERBOT_DAEMON_V8_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
  const bad = flags.find((flag) => !/^--[a-z0-9-]+(=[\w.-]+)?$/i.test(flag));
  if (bad !== undefined) {
    process.stderr.write(`STICKERBOT_DAEMON_V8_FLAGS: ${JSON.stringify(bad)} is not a V8 flag (--name or --name=value, separated by spaces)\n`);
    process.exit(2);
  }
  for (const flag of flags) setFlagsFromString(flag);
}

if (MODE === '--spare') spare();
else if (MODE === '--watch') await watch();
else {
  let manifest;
  try {
    manifest = await freshBundle();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  if (APP === 'daemon') applyDaemonV8Flags();
  await run(manifest.bundle);
}
