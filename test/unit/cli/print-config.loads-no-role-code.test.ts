/**
 * `linguamesh node|scheduler|hub --print-config` reads the configuration and prints it: it must not
 * load the role it would start (xstate, ws, undici, piscina, ioredis, prom-client,
 * systeminformation). A child process runs each through the CLI's program and records every module
 * it resolves (test/fixtures/cli/print-config.entry.ts); the trace must show the configuration
 * being read (zod, src/cli/role-config.ts), so a trace that records nothing cannot pass.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../../support/cli-process.js';
import type { CliRun } from '../../support/cli-process.js';

const ROLE_PACKAGES = ['xstate', 'ws', 'undici', 'piscina', 'ioredis', 'prom-client', 'systeminformation', 'sherpa-onnx-node'];

const dir = mkdtempSync(join(tmpdir(), 'linguamesh-print-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const packageOf = (url: string): string | undefined => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

async function printConfig(args: string[]): Promise<CliRun & { modules: string[] }> {
  const traceFile = join(dir, `${args[0]}.trace`);
  const run = await runNode(['--import', 'tsx', 'test/fixtures/cli/print-config.entry.ts', traceFile, ...args, '--print-config'], {
    timeoutMs: 50_000,
    env: { LINGUAMESH_NODE_SCHEDULER_URL: 'ws://127.0.0.1:1/ws/node' },
  });
  return { ...run, modules: readFileSync(traceFile, 'utf8').split('\n').filter(Boolean) };
}

describe('--print-config', () => {
  it('prints each role’s configuration without loading the role', async () => {
    const runs = await Promise.all([printConfig(['node', '--data-dir', join(dir, 'node')]), printConfig(['scheduler']), printConfig(['hub'])]);
    const [node, scheduler, hub] = runs.map((run) => {
      expect(run.code, run.stderr).toBe(0);
      const packages = new Set(run.modules.map(packageOf));
      expect(packages).toContain('zod');
      expect(run.modules.some((url) => url.endsWith('/src/cli/role-config.ts'))).toBe(true);
      expect(ROLE_PACKAGES.filter((name) => packages.has(name))).toEqual([]);
      return JSON.parse(run.stdout) as Record<string, unknown>;
    });
    expect(node).toMatchObject({ schedulerUrl: 'ws://127.0.0.1:1/ws/node', heartbeatIntervalMs: 15_000 });
    expect(scheduler).toHaveProperty('port');
    expect(hub).toMatchObject({ port: 5000 });
  }, 60_000);
});
