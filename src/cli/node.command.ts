/**
 * `linguamesh node`: runs a compute node, or, with `--probe`, prints what the node would report
 * about this machine and exits (src/cli/node.action.ts, loaded when it runs).
 */
import type { Command } from 'commander';
import { addRoleOptions } from './role-command.js';
import type { CommonRoleFlags } from './role-command.js';

export interface NodeCommandFlags extends CommonRoleFlags {
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

export function registerNodeCommand(program: Command): void {
  const command = program
    .command('node')
    .description('run a compute node (registers with a scheduler, runs speech services and jobs)')
    .option(
      '--scheduler <url>',
      'scheduler address, ws(s)://host:port (the node link path /ws/node is added); repeatable or comma-separated: the node moves to the next one when its link fails (or LINGUAMESH_SCHEDULER); required',
      (url: string, urls: string[] = []) => [...urls, url],
    )
    .option('--data-dir <dir>', 'state directory of this node (node_id, installed services under services/)')
    .option('--http-port <port>', 'port of the loopback control endpoint, default 5020 (0: any free port)')
    .option('--max-concurrent-jobs <n>', 'max_concurrent_jobs announced to the scheduler')
    .option('--allow-cpu-services', 'count running CPU services as ready (allow_cpu_services)')
    .option('--auth-token <token>', 'scheduler token (or LINGUAMESH_NODE_AUTH_TOKEN, LINGUAMESH_AUTH_TOKEN)')
    .option('--service-dir <dir>', 'run the service in this directory besides the installed packages (repeatable)', (dir: string, dirs: string[] = []) => [...dirs, dir])
    .option('--hub <url>', 'model hub to install service packages from (enables `linguamesh pkg` against this node)')
    .option('--hub-key <key_id=base64>', "hub public key for package signatures (repeatable; with keys, unsigned packages are refused)", (key: string, keys: string[] = []) => [...keys, key])
    .option('--probe', 'print the hardware probe of this machine and exit')
    .option('--json', 'with --probe: print JSON');
  addRoleOptions(command, 'node').action(async (flags: NodeCommandFlags, self: Command) => {
    const { probeNode, runNode } = await import('./node.action.js');
    if (flags.probe) await probeNode(flags.json === true);
    else await runNode(flags, self);
  });
}
