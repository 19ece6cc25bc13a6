/**
 * The roles' configuration: defaults < config file < LINGUAMESH_* environment < flags, every source
 * checked against the role's strict schema with messages that name the file, variable or flag, and
 * `--print-config` printing the effective configuration with secrets redacted, starting nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHub, startNode, startScheduler } from '../../../src/cli/embedding.js';
import { buildProgram } from '../../../src/cli/main.js';
import { configFromEnv, envVarName, loadRoleConfig, readConfigFile, redactConfig } from '../../../src/cli/role-config.js';
import { DEFAULT_NODE_OPTIONS } from '../../../src/cli/node-options.js';
import { DEFAULT_SCHEDULER_CONFIG } from '../../../src/actors/scheduler/scheduler-options.js';
import { isKernelError } from '../../../src/kernel/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'lm-config-'));
let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The INVALID_CONFIG message `fn` throws. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isKernelError(err) && err.code).toBe('INVALID_CONFIG');
    return (err as Error).message;
  }
  throw new Error('expected INVALID_CONFIG');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('precedence: defaults < file < environment < flags', () => {
  it('each layer overrides the one below key by key, and keys only set below survive', () => {
    const file = configFile({ scheduler: { port: 6001, host: '127.0.0.1', heartbeatIntervalMs: 1_000, store: 'memory' } });
    const env = { LINGUAMESH_SCHEDULER_PORT: '6002', LINGUAMESH_SCHEDULER_HEARTBEAT_INTERVAL_MS: '2000' };
    const config = loadRoleConfig('scheduler', { file, env, flags: { port: 6003 } });
    expect(config).toMatchObject({ port: 6003, heartbeatIntervalMs: 2_000, host: '127.0.0.1', store: 'memory', wsPingIntervalMs: DEFAULT_SCHEDULER_CONFIG.wsPingIntervalMs });
    expect(loadRoleConfig('scheduler', { file, env })).toMatchObject({ port: 6002 });
    expect(loadRoleConfig('scheduler', { file })).toMatchObject({ port: 6001 });
    expect(loadRoleConfig('scheduler', {})).toMatchObject({ port: DEFAULT_SCHEDULER_CONFIG.port, host: DEFAULT_SCHEDULER_CONFIG.host });
  });

  it('a front end default sits below the file (the hub CLI storage)', () => {
    expect(loadRoleConfig('hub', { defaults: { storageDir: './storage' } }).storageDir).toBe('./storage');
    expect(loadRoleConfig('hub', { defaults: { storageDir: './storage' }, file: configFile({ hub: { storageDir: '/srv/hub' } }) }).storageDir).toBe('/srv/hub');
  });

  it('reads the role section only: another role\'s section is ignored', () => {
    const file = configFile({ node: { schedulerUrl: 'ws://10.0.0.1:5010' }, hub: { storageDir: '/srv/hub', port: 5999 } });
    expect(loadRoleConfig('node', { file }).schedulerUrls).toEqual(['ws://10.0.0.1:5010/ws/node']);
    expect(loadRoleConfig('scheduler', { file }).port).toBe(DEFAULT_SCHEDULER_CONFIG.port);
  });
});

describe('environment variables', () => {
  it('names every key LINGUAMESH_<ROLE>_<KEY> and reads numbers, booleans, lists and key maps', () => {
    expect(envVarName('node', 'schedulerUrl')).toBe('LINGUAMESH_NODE_SCHEDULER_URL');
    expect(envVarName('scheduler', 'allowCpuNodes')).toBe('LINGUAMESH_SCHEDULER_ALLOW_CPU_NODES');
    const node = configFromEnv('node', {
      LINGUAMESH_NODE_SCHEDULER_URL: 'ws://h:1',
      LINGUAMESH_NODE_HTTP_PORT: '0',
      LINGUAMESH_NODE_ALLOW_CPU_SERVICES: 'true',
      LINGUAMESH_NODE_ACCEPT_PUBLIC_JOBS: '0',
      LINGUAMESH_NODE_EXTRA_SERVICE_DIRS: '/a, /b',
      LINGUAMESH_NODE_HUB_URL: 'http://hub:5000',
      LINGUAMESH_NODE_HUB_KEYS: 'k1=AAA=,k2=BBB',
      LINGUAMESH_NODE_INSPECT: 'ws://127.0.0.1:9000',
      LINGUAMESH_TEST_PIDS_DIR: '/tmp/x',
      // `linguamesh pkg`'s node address, not a node key.
      LINGUAMESH_NODE_URL: 'http://127.0.0.1:5020',
      PATH: '/usr/bin',
    });
    expect(node).toEqual({ schedulerUrl: 'ws://h:1', httpPort: 0, allowCpuServices: true, acceptPublicJobs: false, extraServiceDirs: ['/a', '/b'], hubUrl: 'http://hub:5000', hubKeys: { k1: 'AAA=', k2: 'BBB' }, inspect: 'ws://127.0.0.1:9000' });
    expect(configFromEnv('scheduler', { LINGUAMESH_SCHEDULER_INSPECT: 'yes', LINGUAMESH_SCHEDULER_REQUIRED_SERVICE_TYPES: 'asr,nmt' })).toEqual({ inspect: true, requiredServiceTypes: ['asr', 'nmt'] });
  });

  it('LINGUAMESH_AUTH_TOKEN and LOG_LEVEL are shared, below the role\'s own variables', () => {
    expect(configFromEnv('scheduler', { LINGUAMESH_AUTH_TOKEN: 'shared', LOG_LEVEL: 'debug' })).toEqual({ authToken: 'shared', logLevel: 'debug' });
    expect(configFromEnv('node', { LINGUAMESH_AUTH_TOKEN: 'shared', LINGUAMESH_NODE_AUTH_TOKEN: 'own', LOG_LEVEL: 'debug', LINGUAMESH_NODE_LOG_LEVEL: 'warn' })).toEqual({ authToken: 'own', logLevel: 'warn' });
    // The hub has no token: the shared one does not apply.
    expect(configFromEnv('hub', { LINGUAMESH_AUTH_TOKEN: 'shared' })).toEqual({});
  });

  it('refuses an unknown LINGUAMESH_<ROLE>_ variable and names a bad value\'s variable', () => {
    expect(configError(() => configFromEnv('hub', { LINGUAMESH_HUB_STORAGE: '/x' }))).toContain('unknown variable "LINGUAMESH_HUB_STORAGE"');
    expect(configError(() => configFromEnv('hub', { LINGUAMESH_HUB_STORAGE: '/x' }))).toContain('LINGUAMESH_HUB_STORAGE_DIR');
    expect(configError(() => configFromEnv('scheduler', { LINGUAMESH_SCHEDULER_PORT: 'abc' }))).toMatch(/^environment: LINGUAMESH_SCHEDULER_PORT: /);
    expect(configError(() => configFromEnv('scheduler', { LOG_LEVEL: 'loud' }))).toMatch(/^environment: LOG_LEVEL: /);
  });
});

describe('the config file', () => {
  it('refuses unknown keys, naming the key and the file', () => {
    const file = configFile({ node: { schedulerUrl: 'ws://h:1', heartbeatIntervalMS: 5 } });
    expect(configError(() => readConfigFile(file))).toBe(`config file ${file}: unknown key "node.heartbeatIntervalMS"`);
    const sections = configFile({ nodes: {} });
    expect(configError(() => readConfigFile(sections))).toBe(`config file ${sections}: unknown key "nodes"`);
  });

  it('names the key of a value of the wrong type, and refuses a file that is not a JSON object', () => {
    const file = configFile({ scheduler: { port: '5010' } });
    expect(configError(() => readConfigFile(file))).toMatch(new RegExp(`^config file ${file}: scheduler\\.port: `));
    expect(configError(() => readConfigFile(configFile('{ "node": ')))).toContain('is not JSON');
    expect(configError(() => readConfigFile(configFile('[]')))).toContain('must hold one JSON object');
    expect(configError(() => readConfigFile(join(dir, 'absent.json')))).toContain('cannot be read: ENOENT');
  });

  it('is checked as a whole after merging (cross-field rules of the role)', () => {
    const file = configFile({ node: { schedulerUrl: 'ws://h:1', reconnectMinMs: 10_000, reconnectMaxMs: 5_000 } });
    expect(configError(() => loadRoleConfig('node', { file }))).toContain('reconnectMaxMs must be at least reconnectMinMs');
    expect(configError(() => loadRoleConfig('node', {}))).toContain('the node needs a scheduler URL');
  });
});

describe('the embedding API takes the same keys', () => {
  it('refuses unknown keys and bad values at once, naming the function', () => {
    expect(configError(() => startScheduler({ bogus: 1 } as never))).toBe('startScheduler options: unknown key "bogus"');
    expect(configError(() => startNode({ schedulerUrl: 'ws://h:1', httpPort: -1 }))).toMatch(/^startNode options: httpPort: /);
    expect(configError(() => startHub({ storageDir: '' }))).toMatch(/^startHub options: storageDir: /);
  });
});

describe('--print-config', () => {
  async function printConfig(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    // Only the variables the test names: none of the runner's own.
    for (const k of Object.keys(process.env)) if (k === 'LOG_LEVEL' || (k.startsWith('LINGUAMESH_') && !k.startsWith('LINGUAMESH_TEST_'))) vi.stubEnv(k, undefined);
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      await buildProgram().parseAsync(['node', 'linguamesh', ...args, '--print-config']);
    } finally {
      vi.unstubAllEnvs();
    }
    return JSON.parse(out) as Record<string, unknown>;
  }

  it('node: prints the effective configuration, the token redacted, and starts nothing', async () => {
    const file = configFile({ node: { schedulerUrl: 'ws://10.0.0.1:5010', maxConcurrentJobs: 2, httpPort: 0 } });
    const config = await printConfig(['node', '--config', file, '--auth-token', 'sekret', '--max-concurrent-jobs', '3'], { LINGUAMESH_NODE_DATA_DIR: '/var/lib/lm' });
    expect(config).toMatchObject({ schedulerUrl: 'ws://10.0.0.1:5010/ws/node', maxConcurrentJobs: 3, httpPort: 0, dataDir: '/var/lib/lm', authToken: '[redacted]', heartbeatIntervalMs: DEFAULT_NODE_OPTIONS.heartbeatIntervalMs, logLevel: 'info', logFormat: 'auto', inspect: false });
    expect(JSON.stringify(config)).not.toContain('sekret');
  });

  it('scheduler: a password in the store URL is redacted; the shared token too', async () => {
    const config = await printConfig(['scheduler', '--store', 'redis://:hunter2@127.0.0.1:6379/0', '--inspect', '--record', '/tmp/s.jsonl'], { LINGUAMESH_AUTH_TOKEN: 'shared-secret' });
    expect(config).toMatchObject({ store: 'redis://:[redacted]@127.0.0.1:6379/0', authToken: '[redacted]', inspect: true, record: '/tmp/s.jsonl' });
    expect(JSON.stringify(config)).not.toMatch(/hunter2|shared-secret/);
  });

  it('hub: the CLI default storage, flags over the file', async () => {
    expect(await printConfig(['hub'])).toMatchObject({ storageDir: './storage', port: 5000, host: '0.0.0.0' });
    const file = configFile({ hub: { storageDir: '/srv/hub', port: 7000 } });
    expect(await printConfig(['hub', '--config', file, '--port', '7001'])).toMatchObject({ storageDir: '/srv/hub', port: 7001 });
  });

  it('an error in a source ends the command with one line naming it', async () => {
    const program = buildProgram();
    let stderr = '';
    for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined });
    const file = configFile({ hub: { storage: '/srv' } });
    await expect(program.parseAsync(['node', 'linguamesh', 'hub', '--config', file, '--print-config'])).rejects.toBeInstanceOf(CommanderError);
    expect(stderr).toBe(`error (INVALID_CONFIG): config file ${file}: unknown key "hub.storage"\n`);
  });

  it('redactConfig leaves what is not secret', () => {
    expect(redactConfig({ authToken: undefined, store: 'redis://127.0.0.1:6379', hubUrl: 'http://user:pw@hub:5000' })).toEqual({ authToken: undefined, store: 'redis://127.0.0.1:6379', hubUrl: 'http://user:[redacted]@hub:5000' });
  });
});
