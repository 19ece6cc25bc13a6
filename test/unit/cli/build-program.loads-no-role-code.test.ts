/**
 * `linguamesh --help`, `linguamesh status`, `linguamesh pkg list` must not pay for the roles:
 * building the program and rendering every command's help loads the command definitions and the
 * defaults they show, and nothing of the roles (xstate, ioredis, prom-client, piscina, ws, undici,
 * zod, pino, …); each command's action loads its implementation when it runs
 * (src/cli/<command>.action.ts). A child process records every module it resolves
 * (test/fixtures/cli/build-program.entry.ts); the same trace then has to see those packages once the
 * actions and the embedding API they start the roles with are loaded, so a trace that records
 * nothing cannot pass.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runNode } from '../../support/cli-process.js';

const SEPARATOR = '--- actions';

/** Packages only the roles need: none may load before a command runs. */
const ROLE_PACKAGES = ['xstate', 'ioredis', 'prom-client', 'piscina', 'ws', 'undici', 'zod', 'pino', 'systeminformation', 'cli-progress'];

/** Modules of src/cli/ besides the `*.command.ts` files that defining the commands may load. */
const CHEAP_CLI_MODULES = new Set(['src/cli/main.ts', 'src/cli/role-command.ts', 'src/cli/role-config.names.ts', 'src/cli/flag-values.ts']);

/** Why a project module has no place in the command definitions, or undefined when it has one. */
function roleCode(path: string): string | undefined {
  if (path.endsWith('.defaults.ts')) return undefined;
  if (path.startsWith('src/cli/')) return path.endsWith('.command.ts') || CHEAP_CLI_MODULES.has(path) ? undefined : 'role code of src/cli';
  if (path.startsWith('src/protocol/')) return path === 'src/protocol/language.ts' || path === 'src/protocol/frame-limits.ts' ? undefined : 'a protocol schema (zod)';
  return 'a module of the roles (kernel, machines, actors, adapters)';
}

const packageOf = (url: string): string | undefined => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
const projectPath = (url: string): string | undefined => {
  if (!url.startsWith('file:') || url.includes('/node_modules/')) return undefined;
  const path = relative(REPO_ROOT, fileURLToPath(url));
  return path.startsWith('src/') ? path : undefined;
};

const dir = mkdtempSync(join(tmpdir(), 'linguamesh-cli-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Trace {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Resolved module URLs while the program is built and every help rendered. */
  definitions: string[];
  /** Resolved module URLs while the action modules load. */
  actions: string[];
}

async function trace(): Promise<Trace> {
  const traceFile = join(dir, 'modules.trace');
  const { code, stdout, stderr } = await runNode(['--import', 'tsx', 'test/fixtures/cli/build-program.entry.ts', traceFile], { timeoutMs: 50_000 });
  const lines = readFileSync(traceFile, 'utf8').split('\n').filter(Boolean);
  const at = lines.indexOf(SEPARATOR);
  return { code, stdout, stderr, definitions: at < 0 ? lines : lines.slice(0, at), actions: at < 0 ? [] : lines.slice(at + 1) };
}

describe('the CLI program', () => {
  it('defines every command and renders its help without loading role code; running a command loads it', async () => {
    const t = await trace();
    expect(t.code, t.stderr).toBe(0);
    const summary = JSON.parse(t.stdout) as { commands: number; actions: string[] };
    expect(summary.commands).toBeGreaterThan(20);
    expect(summary.actions).toEqual(expect.arrayContaining(['hub.action.ts', 'node.action.ts', 'pkg.action.ts', 'role.action.ts', 'scheduler.action.ts', 'status.action.ts', 'translate.action.ts', 'up.action.ts']));

    // The trace sees the command definitions being loaded…
    const defined = new Set(t.definitions.map(projectPath).filter((p) => p !== undefined));
    expect(defined).toContain('src/cli/main.ts');
    expect(defined).toContain('src/cli/status.command.ts');
    expect(new Set(t.definitions.map(packageOf))).toContain('commander');
    // …and nothing of the roles among them.
    expect(ROLE_PACKAGES.filter((name) => t.definitions.some((url) => packageOf(url) === name))).toEqual([]);
    expect([...defined].flatMap((path) => (roleCode(path) ? [`${path}: ${roleCode(path)}`] : []))).toEqual([]);

    // Loading the actions and the embedding API, the same trace sees every one of those packages.
    const loadedByActions = new Set(t.actions.map(packageOf));
    expect(ROLE_PACKAGES.filter((name) => !loadedByActions.has(name))).toEqual([]);
    expect(t.actions.map(projectPath)).toContain('src/cli/embedding.ts');
  }, 60_000);
});
