/**
 * The dependency rules of `pnpm lint` (`.dependency-cruiser.cjs`) bite. The repository is
 * copied into a scratch folder (sources, package manifests and the workspace links; the
 * installed packages are shared through a link to `node_modules/.pnpm`), one file per rule
 * is added there with an import that rule forbids, and the checker is run exactly as
 * `pnpm lint:architecture` runs it. The copy as it is passes; with the additions it fails,
 * naming for every added file the rule it breaks.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/support/process-stack.js';

const run = promisify(execFile);

/** A file added to the copy, the import in it, and the rule it must break. */
interface Violation {
  file: string;
  source: string;
  rule: string;
}

const VIOLATIONS: readonly Violation[] = [
  { file: 'packages/worker/src/uses-baileys.ts', source: "import '@whiskeysockets/baileys';", rule: 'worker-never-imports-baileys' },
  { file: 'packages/worker/src/uses-daemon.ts', source: "import '@stickerbot/daemon';", rule: 'worker-imports-only-protocol-and-runtime-and-sticker' },
  { file: 'packages/sticker/src/uses-protocol.ts', source: "import '@stickerbot/protocol';", rule: 'sticker-imports-no-package' },
  { file: 'packages/daemon/src/uses-worker-src.ts', source: "import '../../worker/src/worker.js';", rule: 'no-reaching-into-another-package' },
  { file: 'packages/daemon/src/uses-worker-by-name.ts', source: "import '@stickerbot/worker';", rule: 'daemon-imports-only-protocol-and-runtime' },
  { file: 'packages/daemon/src/uses-wa-sim.ts', source: "import '@stickerbot/wa-sim';", rule: 'wa-sim-is-test-only' },
  { file: 'packages/worker/src/uses-test-kit.ts', source: "import '@stickerbot/daemon/test-kit';", rule: 'test-kit-is-for-tests' },
  { file: 'packages/worker/src/commands/uses-sample-media.ts', source: "import '@stickerbot/sticker/test-kit';", rule: 'test-kit-is-for-tests' },
  { file: 'packages/runtime/src/uses-daemon.ts', source: "import '@stickerbot/daemon';", rule: 'runtime-imports-only-protocol' },
  { file: 'packages/worker/src/uses-private-file.ts', source: "import '@stickerbot/protocol/src/errors.js';", rule: 'public-api-only-through-exports' },
  { file: 'packages/protocol/src/uses-fs.ts', source: "import 'node:fs';", rule: 'protocol-has-no-io' },
  { file: 'scripts/uses-test-code.ts', source: "import '../test/support/journal.js';", rule: 'product-never-imports-test-code' },
  { file: 'packages/worker/src/uses-scripts.ts', source: "import '../../../scripts/support/free-port.js';", rule: 'packages-never-import-scripts-or-root-tests' },
  { file: 'test/uses-daemon-src.ts', source: "import '../packages/daemon/src/config.js';", rule: 'scripts-and-tests-import-packages-by-name' },
  { file: 'packages/daemon/src/bridge/uses-sessions.ts', source: "import '../sessions/registry.js';", rule: 'bridge-and-dashboard-reach-sessions-through-the-registry' },
  { file: 'packages/daemon/src/dashboard/uses-sessions.ts', source: "import '../sessions/supervisor.js';", rule: 'bridge-and-dashboard-reach-sessions-through-the-registry' },
  // A type-only import is a dependency too.
  { file: 'packages/daemon/src/sessions/uses-bridge.ts', source: "import type { Principal } from '../bridge/auth.js';\nexport type P = Principal;", rule: 'sessions-never-import-bridge-or-dashboard' },
  { file: 'packages/daemon/src/dashboard/uses-sqlite.ts', source: "import '../storage/sqlite-journal.js';", rule: 'storage-only-through-its-entry-point' },
  { file: 'packages/daemon/src/storage/uses-config.ts', source: "import '../config.js';", rule: 'storage-imports-no-other-daemon-module' },
  { file: 'packages/daemon/src/bridge/uses-dashboard.ts', source: "import '../dashboard/jwt.js';", rule: 'bridge-never-imports-dashboard' },
  { file: 'packages/daemon/src/dashboard/uses-journal-delivery.ts', source: "import '../bridge/journal-delivery.js';", rule: 'dashboard-uses-only-bridge-auth-binding-and-executor' },
  { file: 'packages/daemon/src/sessions/uses-daemon.ts', source: "import '../daemon.js';", rule: 'wings-import-only-shared-root-modules' },
  { file: 'packages/daemon/src/bridge/uses-baileys.ts', source: "import '@whiskeysockets/baileys';", rule: 'baileys-only-in-sessions-and-storage' },
];

/** What the copy needs: sources, manifests, tsconfigs and the workspace's own node_modules links. */
function copyRepository(to: string): void {
  const skip = /(^|\/)(\.git|dist|artifacts|\.vite|\.vite-temp|\.pnpm|\.bin|data)$/;
  const entries = ['packages', 'scripts', 'test', 'node_modules', 'package.json', 'tsconfig.json', 'tsconfig.base.json', '.dependency-cruiser.cjs'];
  for (const entry of entries) {
    cpSync(join(repoRoot, entry), join(to, entry), {
      recursive: true,
      // Relative links stay relative: @stickerbot/* point into the copy's packages/.
      verbatimSymlinks: true,
      filter: (source) => !skip.test(relative(repoRoot, source)),
    });
  }
  symlinkSync(join(repoRoot, 'node_modules/.pnpm'), join(to, 'node_modules/.pnpm'));
}

/** Runs the checker in `cwd` with the arguments of `pnpm lint:architecture`. */
async function checkArchitecture(cwd: string): Promise<{ code: number; output: string }> {
  const script = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['lint:architecture'];
  const [command, ...args] = (script ?? '').split(' ');
  expect(command).toBe('depcruise');
  const bin = join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args, '--output-type', 'err'], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

describe('architecture rules (pnpm lint:architecture)', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'stickerbot-architecture-'));
    copyRepository(scratch);
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('passes the repository as it is', { timeout: 60_000 }, async () => {
    const { code, output } = await checkArchitecture(scratch);
    expect(output).toContain('no dependency violations found');
    expect(code).toBe(0);
  });

  it('fails on each forbidden import, naming the rule it breaks', { timeout: 60_000 }, async () => {
    for (const violation of VIOLATIONS) {
      mkdirSync(dirname(join(scratch, violation.file)), { recursive: true });
      writeFileSync(join(scratch, violation.file), `${violation.source}\n`);
    }
    const { code, output } = await checkArchitecture(scratch);
    expect(code).not.toBe(0);
    const reported = output.split('\n').filter((line) => /^\s*error /.test(line));
    for (const { file, rule } of VIOLATIONS) {
      expect(reported, `${file} should break ${rule}`).toContainEqual(expect.stringMatching(new RegExp(`error ${rule}: ${file} → `)));
    }
    // Nothing else is reported: every error comes from an added file.
    const added = new Set(VIOLATIONS.map((v) => v.file));
    for (const line of reported) {
      expect(added, line).toContain(/error [a-z-]+: (\S+) → /.exec(line)?.[1]);
    }
  });
});
