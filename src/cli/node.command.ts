/**
 * `linguamesh node`: runs a compute node, or, with `--probe`, prints what the node would report
 * about this machine and exits.
 */
import type { Command } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import { createHardwareAdapter } from '../adapters/hardware.adapter.js';
import { rejectionHint } from '../actors/node/link.actor.js';
import { createLogger } from '../kernel/logger.js';
import type { HardwareProbe } from '../kernel/ports/hardware.port.js';
import { startNodeRole } from './node-role.js';
import type { NodeRoleHandle } from './node-role.js';

interface NodeCommandFlags {
  scheduler?: string[];
  dataDir?: string;
  httpPort?: string;
  maxConcurrentJobs?: string;
  allowCpuServices?: boolean;
  authToken?: string;
  serviceDir?: string[];
  hub?: string;
  hubKey?: string[];
  probe?: boolean;
  json?: boolean;
}

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

/** `--hub-key <key_id>=<base64>` flags → the hub keys by key id (each key is checked when the package manager starts). */
export function parseHubKeys(command: Pick<Command, 'error'>, flags: readonly string[]): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const keyId = flag.slice(0, at).trim();
    const key = flag.slice(at + 1).trim();
    if (at <= 0 || key === '') command.error(`error: --hub-key must be <key_id>=<base64 public key>, got "${flag}"`);
    if (keys[keyId] !== undefined && keys[keyId] !== key) command.error(`error: --hub-key ${keyId} is given twice with different keys`);
    keys[keyId] = key;
  }
  return keys;
}

/**
 * The scheduler addresses of `--scheduler` flags (repeatable, each may be a comma-separated list),
 * else of `LINGUAMESH_SCHEDULER` (comma-separated), in failover order; empty parts are dropped.
 */
export function schedulerAddresses(flags: readonly string[] | undefined, env: string | undefined): string[] {
  const given = flags !== undefined && flags.length > 0 ? flags : env !== undefined ? [env] : [];
  return given.flatMap((value) => value.split(',')).map((part) => part.trim()).filter((part) => part !== '');
}

async function probe(json: boolean): Promise<void> {
  const result = await createHardwareAdapter().probe(new AbortController().signal);
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : formatProbe(result));
}

async function run(flags: NodeCommandFlags, command: Command): Promise<void> {
  const schedulers = schedulerAddresses(flags.scheduler, process.env.LINGUAMESH_SCHEDULER);
  if (schedulers.length === 0) command.error('error: --scheduler <url> is required (e.g. ws://127.0.0.1:5010; repeat it, or give a comma-separated list, for a fleet)');
  if (flags.hubKey !== undefined && flags.hub === undefined) command.error('error: --hub-key needs --hub');
  if (flags.hub !== undefined && !/^https?:\/\/[^/]/.test(flags.hub)) command.error(`error: --hub must be an http(s):// URL, got "${flags.hub}"`);
  const logger = createLogger({ base: { role: 'node' } });
  let node: NodeRoleHandle;
  try {
    node = await startNodeRole({
      schedulerUrl: schedulers,
      dataDir: flags.dataDir,
      httpPort: integer(command, '--http-port', flags.httpPort),
      maxConcurrentJobs: integer(command, '--max-concurrent-jobs', flags.maxConcurrentJobs),
      allowCpuServices: flags.allowCpuServices,
      authToken: flags.authToken ?? process.env.LINGUAMESH_AUTH_TOKEN,
      extraServiceDirs: flags.serviceDir ?? [],
      ...(flags.hub !== undefined ? { hubUrl: flags.hub, hubKeys: parseHubKeys(command, flags.hubKey ?? []) } : {}),
      logger,
      signals: 'process',
    });
  } catch (err) {
    // Bad flags (a malformed URL, a port out of range) end here, as one line for the operator.
    if (isKernelError(err) && err.code === 'INVALID_CONFIG') command.error(`error: ${err.message}`);
    throw err;
  }
  node.bus.subscribe('link.registered', (event) => {
    process.stderr.write(`linguamesh node: registered with ${event.schedulerUrl ?? 'the scheduler'} as ${event.nodeId}\n`);
  });
  node.bus.subscribe('link.rejected', (event) => {
    if (event.retrying) return;
    // §3.1 step 4: the node stops retrying; the operator must act, so say what to do.
    process.stderr.write(`linguamesh node: the scheduler refused this node (${event.code}: ${event.message}).\n  What to do: ${rejectionHint(event.code)}.\n`);
  });
  try {
    const { httpPort } = await node.ready;
    process.stderr.write(`linguamesh node: control endpoint http://127.0.0.1:${httpPort} (GET /status)\n`);
    const { schedulerUrls } = node.status().link;
    if (schedulerUrls.length > 1) process.stderr.write(`linguamesh node: schedulers in failover order: ${schedulerUrls.join(', ')}\n`);
  } catch (err) {
    process.stderr.write(`linguamesh node: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  const exit = await node.done;
  process.exitCode = exit.reason === 'shutdown' ? 0 : 1;
}

export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description('run a compute node (registers with a scheduler, runs speech services and jobs)')
    .option(
      '--scheduler <url>',
      'scheduler address, ws(s)://host:port (the node link path /ws/node is added); repeatable or comma-separated: the node moves to the next one when its link fails (or LINGUAMESH_SCHEDULER)',
      (url: string, urls: string[] = []) => [...urls, url],
    )
    .option('--data-dir <dir>', 'state directory of this node (node_id, installed services under services/)')
    .option('--http-port <port>', 'port of the loopback control endpoint, default 5020 (0: any free port)')
    .option('--max-concurrent-jobs <n>', 'max_concurrent_jobs announced to the scheduler')
    .option('--allow-cpu-services', 'count running CPU services as ready (allow_cpu_services)')
    .option('--auth-token <token>', 'scheduler token (or LINGUAMESH_AUTH_TOKEN)')
    .option('--service-dir <dir>', 'run the service in this directory besides the installed packages (repeatable)', (dir: string, dirs: string[] = []) => [...dirs, dir])
    .option('--hub <url>', 'model hub to install service packages from (enables `linguamesh pkg` against this node)')
    .option('--hub-key <key_id=base64>', "hub public key for package signatures (repeatable; with keys, unsigned packages are refused)", (key: string, keys: string[] = []) => [...keys, key])
    .option('--probe', 'print the hardware probe of this machine and exit')
    .option('--json', 'with --probe: print JSON')
    .action(async (flags: NodeCommandFlags, command: Command) => {
      if (flags.probe) await probe(flags.json === true);
      else await run(flags, command);
    });
}
