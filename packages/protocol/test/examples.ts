import type { DashboardCommandArgs, DashboardCommandName, WorkerCommandArgs, WorkerCommandName } from '../src/index.js';
import { exampleDashboardCommands as dashboardExamples, exampleWorkerCommands as workerExamples } from '../src/docs/examples.js';

/** The documented examples (packages/protocol/README.md) are the tests' fixtures too. */
export { exampleEntries, exampleMessage, exampleSession, exampleSticker } from '../src/docs/examples.js';

/** The arguments of each documented worker command example. */
export const exampleWorkerCommands = Object.fromEntries(
  Object.entries(workerExamples).map(([name, example]) => [name, example.request]),
) as { [N in WorkerCommandName]: WorkerCommandArgs<N> };

/** The arguments of each documented dashboard command example. */
export const exampleDashboardCommands = Object.fromEntries(
  Object.entries(dashboardExamples).map(([name, example]) => [name, example.request]),
) as { [N in DashboardCommandName]: DashboardCommandArgs<N> };
