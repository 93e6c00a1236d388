/**
 * `pnpm demo`: the whole product on one machine with no phone and no WhatsApp account.
 * Starts the wa-sim emulator, the daemon and the worker, shows the daemon's login QR, lets
 * the emulator's fake phone scan it, then a scripted contact talks to the bot. Exits 0 only
 * when every step passed. `pnpm demo --chat`: you type as the contact instead.
 */
import { runChat } from './demo/chat.js';
import { runDemo } from './demo/run-demo.js';

// libsignal (inside Baileys and the emulator's fake phones) dumps whole session records to
// the console whenever it replaces a session; the demo's own lines go to stdout directly.
const quiet = (): void => undefined;
console.log = quiet;
console.info = quiet;
console.warn = quiet;

const print = (line: string) => void process.stdout.write(`${line}\n`);
if (process.argv.includes('--chat')) {
  await runChat(print);
  process.exit(0);
}
const result = await runDemo({ print });
process.exit(result.passed === result.total ? 0 : 1);
