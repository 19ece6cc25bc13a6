/**
 * A scheduler instance as an OS process of its own, for fleet tests: `startScheduler` with the
 * options given as JSON in argv[2] (short leases and timeouts that the CLI has no flags for), on
 * the system clock, stopped by SIGTERM. Prints one JSON line `{"listening":port,"instanceId":…}`.
 */
import { startScheduler } from '../../src/cli/start-scheduler.js';
import { createLogger } from '../../src/kernel/logger.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const scheduler = startScheduler({ host: '127.0.0.1', port: 0, logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }), signals: 'process', ...options });
scheduler.ready.then(
  () => process.stdout.write(`${JSON.stringify({ listening: scheduler.port, instanceId: scheduler.instanceId })}\n`),
  (err: unknown) => {
    process.stderr.write(`scheduler could not start: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
void scheduler.done.then(async () => {
  await scheduler.stop();
});
