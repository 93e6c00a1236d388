/**
 * The architecture as rules (DESIGN §2 and the daemon's wings, packages/daemon/README.md
 * "Layout"), checked by dependency-cruiser over resolved module paths, type-only imports
 * included, as part of `pnpm lint`. The root package.json lists every workspace package,
 * so a forbidden import compiles and resolves: only these rules refuse it.
 * test/architecture-rules.test.ts proves that each kind of rule fails on a forbidden import.
 */

/** Tests and what only tests use: files ending in .test.ts and the packages' test/ folders. */
const TEST_CODE = '(\\.test\\.ts$|^packages/[^/]+/test/)';
/** What tests may use besides the layers (DESIGN §2): the daemon's test kit and the emulator. */
const TEST_SUPPORT = '^packages/(daemon/src/test-kit|wa-sim)/';
/** The packages' test kits (fakes and sample inputs that tests and benchmarks share). */
const TEST_KITS = '^packages/[^/]+/src/test-kit/';
/** Benchmarks (packages/<pkg>/bench/): product code that may drive a package's test kit. */
const BENCHMARKS = '^packages/[^/]+/bench/';
/** Product code of the packages: everything but tests, test kits and benchmarks. */
const PACKAGE_PRODUCT = { path: '^packages/[^/]+/', pathNot: [TEST_CODE, TEST_KITS, BENCHMARKS] };
const BAILEYS = '(^|/)(@whiskeysockets/baileys|baileys|libsignal)(/|$)';
const DAEMON = '^packages/daemon/src/';
/** Daemon production code; tests beside it may assemble any internals they test. */
const daemonCode = (folder) => ({ path: `${DAEMON}${folder}`, pathNot: '\\.test\\.ts$' });

/**
 * DESIGN §2: a package's code depends only on the packages listed here for it. The list in
 * DESIGN is an order (protocol, daemon, worker, sticker, wa-sim), but the sticker engine
 * depends on none and the worker uses it, and @stickerbot/runtime (the plumbing the daemon,
 * the worker and the emulator's process share, packages/runtime/README.md) sits under
 * them on the protocol: these are the edges.
 */
const PACKAGE_DEPENDENCIES = {
  protocol: [],
  runtime: ['protocol'],
  daemon: ['protocol', 'runtime'],
  worker: ['protocol', 'runtime', 'sticker'],
  sticker: [],
  'wa-sim': ['runtime'],
};

const packageRules = Object.entries(PACKAGE_DEPENDENCIES).map(([name, allowed]) => ({
  name: allowed.length === 0 ? `${name}-imports-no-package` : `${name}-imports-only-${allowed.join('-and-')}`,
  comment:
    allowed.length === 0
      ? `@stickerbot/${name} depends on no other workspace package (DESIGN §2).`
      : `@stickerbot/${name} depends only on ${allowed.map((a) => `@stickerbot/${a}`).join(' and ')} (DESIGN §2); its tests may also use the daemon's test kit and the emulator.`,
  severity: 'error',
  from: { path: `^packages/${name}/` },
  to: { path: `^packages/(?!(${[name, ...allowed].join('|')})/)`, pathNot: TEST_SUPPORT },
}));

module.exports = {
  forbidden: [
    ...packageRules,
    {
      name: 'worker-never-imports-baileys',
      comment: 'The worker never imports Baileys (DESIGN §4): it sees WhatsApp only through the protocol DTOs.',
      severity: 'error',
      from: { path: '^packages/worker/' },
      to: { path: BAILEYS },
    },
    {
      name: 'protocol-has-no-io',
      comment: 'The protocol package has no I/O (DESIGN §2): its code imports no Node built-in and no library but zod.',
      severity: 'error',
      from: { path: '^packages/protocol/src/', pathNot: TEST_CODE },
      to: { dependencyTypesNot: ['local'], pathNot: '(^|/)node_modules/zod/' },
    },
    {
      name: 'wa-sim-is-test-only',
      comment:
        'The emulator can override WhatsApp server trust: the daemon and the worker (tests beside their code included) never import it; tests in test/ folders and scripts may.',
      severity: 'error',
      from: { path: '^packages/(daemon|worker)/src/' },
      to: { path: '^packages/wa-sim/' },
    },
    {
      name: 'test-kit-is-for-tests',
      comment: "A package's test kit (the daemon's fake WhatsApp, the worker's fake bridge, the sticker engine's sample media) is for tests, benchmarks and scripts, never for a package's product code.",
      severity: 'error',
      from: PACKAGE_PRODUCT,
      to: { path: TEST_KITS },
    },
    {
      name: 'no-reaching-into-another-package',
      comment: "A package never imports another package's files by path (DESIGN §2): it imports the package by name, through its exports map.",
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: '^packages/$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'scripts-and-tests-import-packages-by-name',
      comment: "Scripts and cross-process tests use a package through its exports map; only a process entry point (src/main.ts) is run by path.",
      severity: 'error',
      from: { path: '^(scripts|test)/' },
      to: { path: '^packages/', pathNot: '^packages/[^/]+/src/main\\.ts$', dependencyTypes: ['local'] },
    },
    {
      name: 'public-api-only-through-exports',
      comment:
        "Every import resolves; a package's private file (a subpath its package.json exports map does not list) does not (DESIGN §2).",
      severity: 'error',
      from: {},
      // The dashboard page loads the Socket.IO client the daemon serves at that URL.
      to: { couldNotResolve: true, pathNot: '^/socket\\.io/' },
    },
    {
      name: 'product-never-imports-test-code',
      comment: 'Product code (the packages, scripts/) never stands on test code: what it needs moves into a package export or scripts/support/.',
      severity: 'error',
      from: { path: ['^packages/[^/]+/', '^scripts/'], pathNot: TEST_CODE },
      to: { path: ['\\.test\\.ts$', '(^|/)test/'], pathNot: '(^|/)node_modules/' },
    },
    {
      name: 'packages-never-import-scripts-or-root-tests',
      comment: "scripts/ and test/ sit on top of the packages: no package's product code imports them (its tests may use scripts/support/).",
      severity: 'error',
      from: PACKAGE_PRODUCT,
      to: { path: '^(scripts|test)/' },
    },

    // The daemon's wings (packages/daemon/README.md, Layout).
    {
      name: 'sessions-never-import-bridge-or-dashboard',
      comment: 'sessions/ (WhatsApp) knows nothing of who is connected over Socket.IO.',
      severity: 'error',
      from: daemonCode('sessions/'),
      to: { path: `${DAEMON}(bridge|dashboard)/` },
    },
    {
      name: 'bridge-and-dashboard-reach-sessions-through-the-registry',
      comment: 'bridge/ and dashboard/ reach the sessions only through the SessionRegistry contract (session-registry.ts at the root).',
      severity: 'error',
      from: daemonCode('(bridge|dashboard)/'),
      to: { path: `${DAEMON}sessions/` },
    },
    {
      name: 'storage-only-through-its-entry-point',
      comment: 'Outside storage/, the daemon reaches storage only through storage/index.ts (the store contracts and openStorage).',
      severity: 'error',
      from: { path: DAEMON, pathNot: [`${DAEMON}storage/`, '\\.test\\.ts$'] },
      to: { path: `${DAEMON}storage/`, pathNot: `${DAEMON}storage/index\\.ts$` },
    },
    {
      name: 'storage-imports-no-other-daemon-module',
      comment: 'storage/ stands alone: it imports no other wing and nothing of the composition root.',
      severity: 'error',
      from: daemonCode('storage/'),
      to: { path: DAEMON, pathNot: `${DAEMON}storage/` },
    },
    {
      name: 'bridge-never-imports-dashboard',
      comment: 'The worker side of the bridge knows nothing of the dashboard.',
      severity: 'error',
      from: daemonCode('bridge/'),
      to: { path: `${DAEMON}dashboard/` },
    },
    {
      name: 'dashboard-uses-only-bridge-auth-binding-and-executor',
      comment:
        "dashboard/ is the bridge's second namespace: it shares the handshake auth (bridge/auth.ts), the command binding (bridge/command-binding.ts) and the command executor (bridge/command-executor.ts), nothing else of bridge/.",
      severity: 'error',
      from: daemonCode('dashboard/'),
      to: { path: `${DAEMON}bridge/`, pathNot: `${DAEMON}bridge/(auth|command-binding|command-executor)\\.ts$` },
    },
    {
      name: 'wings-import-only-shared-root-modules',
      comment:
        'sessions/, bridge/ and dashboard/ never import the composition (daemon.ts, http-server.ts, main.ts, config, logger, metrics): only the shared root modules below.',
      severity: 'error',
      from: daemonCode('(sessions|bridge|dashboard)/'),
      to: {
        path: `${DAEMON}[^/]+$`,
        pathNot: `${DAEMON}(session-registry|qr-output|login-help|token)\\.ts$`,
      },
    },
    {
      name: 'baileys-only-in-sessions-and-storage',
      comment:
        "Baileys stays behind the port (sessions/wa-socket.ts) and in the stores that persist its state (storage/, and cluster mode's Redis auth store in cluster/); the rest of the daemon never imports it.",
      severity: 'error',
      from: { path: DAEMON, pathNot: [`${DAEMON}(sessions|storage|test-kit)/`, `${DAEMON}cluster/redis-auth-store\\.ts$`, '\\.test\\.ts$'] },
      to: { path: BAILEYS },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '(^|/)dist/' },
    // Type-only imports are dependencies too: a type from another wing is a coupling.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      // Resolve workspace packages the way tsc and tsx do: through their exports map, to the source.
      exportsFields: ['exports'],
      conditionNames: ['@stickerbot/source', 'import', 'require', 'node', 'types', 'default'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
