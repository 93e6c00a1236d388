import { writeFile } from 'node:fs/promises';
import { routeConsoleToLogger, stdioLogDestination } from '@stickerbot/runtime';
import { pino } from 'pino';
import { startAdminServer } from './control/admin-http.js';
import { startSim } from './control/sim.js';

// Composition root for running the emulator as its own process (daemon e2e tests, the demo).
// Prints one JSON line {wsUrl, adminUrl, caFile} on stdout and sends it over IPC when forked.
const env = process.env;
// Records on stderr: stdout carries the ready line below.
const log = pino({ level: env.WA_SIM_LOG ?? 'info' }, stdioLogDestination(2));
// libsignal prints whole session records (key material) with console.info when a session is
// replaced; like the daemon, the emulator logs that as one safe record instead.
routeConsoleToLogger(log);
const sim = await startSim({ logger: log });
const admin = await startAdminServer(sim, Number(env.WA_SIM_ADMIN_PORT ?? 0));
const caFile = env.WA_SIM_CA_FILE;
if (caFile) await writeFile(caFile, sim.media.ca, { mode: 0o600 });
const ready = { wsUrl: sim.url, adminUrl: admin.url, caFile: caFile ?? null };
process.stdout.write(`${JSON.stringify(ready)}\n`);
process.send?.({ type: 'ready', ...ready });

const shutdown = async () => {
  await admin.close();
  await sim.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
