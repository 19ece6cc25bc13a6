/**
 * What `linguamesh node` runs (its flags: src/cli/node.command.ts): a compute node until
 * SIGINT/SIGTERM, or, with `--probe`, the hardware probe of this machine. Each loads its code when
 * it runs (the node's, once the configuration is known: not for `--print-config`).
 */
import type { Command } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import type { HardwareProbe } from '../kernel/ports/hardware.port.js';
import { parseHubKeys, schedulerAddresses } from './node.command.js';
import type { NodeCommandFlags } from './node.command.js';
import { commandLogger, loadCommandConfig, printConfigIfAsked, runUntilStopped } from './role.action.js';

/** The probe for people: one fact per line. */
export function formatProbe(probe: HardwareProbe): string {
  const { hardware } = probe;
  const gpus = hardware.gpus ?? [];
  const lines = [
    `platform:  ${probe.platform}`,
    `cpu:       ${hardware.cpu_cores} cores${probe.cpuModel ? ` (${probe.cpuModel})` : ''}`,
    `memory:    ${hardware.memory_gb} GB`,
    gpus.length === 0 ? 'gpus:      none' : `gpus:      ${gpus.length} (from ${probe.gpuSource})`,
    ...gpus.map((g, i) => `  gpu ${i}:  ${g.name}, ${g.memory_gb} GB`),
  ];
  return `${lines.join('\n')}\n`;
}

function integer(command: Command, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) command.error(`error: ${flag} must be an integer, got "${value}"`);
  return n;
}

export async function probeNode(json: boolean): Promise<void> {
  const { createHardwareAdapter } = await import('../adapters/hardware.adapter.js');
  const result = await createHardwareAdapter().probe(new AbortController().signal);
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : formatProbe(result));
}

const FLAG_NAMES = {
  schedulerUrl: '--scheduler',
  dataDir: '--data-dir',
  httpPort: '--http-port',
  maxConcurrentJobs: '--max-concurrent-jobs',
  allowCpuServices: '--allow-cpu-services',
  authToken: '--auth-token',
  extraServiceDirs: '--service-dir',
  hubUrl: '--hub',
  hubKeys: '--hub-key',
};

export async function runNode(flags: NodeCommandFlags, command: Command): Promise<void> {
  const schedulers = schedulerAddresses(flags.scheduler, process.env.LINGUAMESH_SCHEDULER);
  if (flags.hub !== undefined && !/^https?:\/\/[^/]/.test(flags.hub)) command.error(`error: --hub must be an http(s):// URL, got "${flags.hub}"`);
  const config = loadCommandConfig(command, 'node', flags, {
    schedulerUrl: schedulers.length > 0 ? schedulers : undefined,
    dataDir: flags.dataDir,
    httpPort: integer(command, '--http-port', flags.httpPort),
    maxConcurrentJobs: integer(command, '--max-concurrent-jobs', flags.maxConcurrentJobs),
    allowCpuServices: flags.allowCpuServices,
    authToken: flags.authToken,
    extraServiceDirs: flags.serviceDir,
    hubUrl: flags.hub,
    hubKeys: flags.hubKey === undefined ? undefined : parseHubKeys(command, flags.hubKey),
  }, { flagNames: FLAG_NAMES });
  if (printConfigIfAsked(flags, config)) return;
  const [{ startNode }, { rejectionHint }] = await Promise.all([import('./embedding.js'), import('../actors/node/link.actor.js')]);
  const logger = commandLogger(config);
  const { schedulerUrls, ...settings } = config;
  const node = startNode({ ...settings, schedulerUrl: schedulerUrls, logger });
  node.on('link.rejected', (event) => {
    if (event.retrying) return;
    // §3.1 step 4: the node stops retrying; the operator must act, so say what to do.
    process.stderr.write(`linguamesh node: the scheduler refused this node (${event.code}: ${event.message}).\n  What to do: ${rejectionHint(event.code)}.\n`);
  });
  node.on('link.registered', (event) => {
    process.stderr.write(`linguamesh node: registered with ${event.schedulerUrl ?? 'the scheduler'} as ${event.nodeId}\n`);
  });
  const exit = runUntilStopped('node', node, logger);
  try {
    const { port } = await node.ready;
    process.stderr.write(`linguamesh node: control endpoint http://127.0.0.1:${port} (GET /status)\n`);
    const { schedulerUrls } = (await node.status()).link;
    if (schedulerUrls.length > 1) process.stderr.write(`linguamesh node: schedulers in failover order: ${schedulerUrls.join(', ')}\n`);
  } catch (err) {
    // Bad settings found while starting (a hub key that is not a key) end here, as one line for the operator.
    if (isKernelError(err) && err.code === 'INVALID_CONFIG') {
      await node.stop();
      command.error(`error (INVALID_CONFIG): ${err.message}`);
    }
    process.stderr.write(`linguamesh node: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exitCode = (await exit).reason === 'shutdown' ? 0 : 1;
}
