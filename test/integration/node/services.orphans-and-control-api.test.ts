import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../../src/adapters/http-server.adapter.js';
import { registerNodeServicesCommand } from '../../../src/cli/node-services.command.js';
import type { HttpServerHandle } from '../../../src/kernel/ports/http.port.js';
import { alive, bootServices, installService, pumpUntil, recordPids, settle } from '../../support/hotplug-harness.js';
import type { Harness } from '../../support/hotplug-harness.js';

let h: Harness | undefined;
let server: HttpServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await h?.stop();
  h = undefined;
});

async function cli(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = new Command('linguamesh').exitOverride();
  program.command('node');
  registerNodeServicesCommand(program, { out: (t) => (out += t), err: (t) => (err += t) });
  const previous = process.exitCode;
  process.exitCode = 0;
  await program.parseAsync(['node', 'linguamesh', ...args]);
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = previous;
  return { out, err, exitCode };
}

describe('services: a node killed with SIGKILL leaves no orphan at its next start', () => {
  it('the next start kills the recorded service process (same start time) and leaves a reused pid alone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lm-hotplug-'));
    installService(dataDir, { id: 'tts-orphan', env: { TEST_READY_LINE: 1 } });
    const node = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/services/node-with-services.ts', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    recordPids(node.pid!);
    let out = '';
    node.stdout.on('data', (d) => (out += String(d)));
    const started = Date.now();
    while (!/running tts-orphan (\d+)/.test(out)) {
      if (Date.now() - started > 20_000) throw new Error(`node did not start its service: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const servicePid = Number(/running tts-orphan (\d+)/.exec(out)![1]);
    recordPids(servicePid);
    node.kill('SIGKILL');
    await new Promise((r) => node.once('exit', r));
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(servicePid)).toBe(true);

    // A record whose pid now belongs to someone else (this test process) must be left alone.
    const pidFile = join(dataDir, 'run', 'service-processes.json');
    const doc = JSON.parse(readFileSync(pidFile, 'utf8')) as { processes: Array<Record<string, unknown>> };
    doc.processes.push({ serviceId: 'ghost', pid: process.pid, startTime: '1', commandLine: 'not this one' });
    writeFileSync(pidFile, JSON.stringify(doc));

    h = await bootServices([], { dataDir });
    await pumpUntil(h.clock, () => !alive(servicePid), 'stale service process killed', { stepMs: 0, timeoutMs: 3_000 });
    expect(alive(process.pid)).toBe(true);
    await h.waitState('tts-orphan', 'running');
    expect(h.runtime.registry.get('tts-orphan')!.pid).not.toBe(servicePid);
    expect(h.logLines.some((l) => l.msg === 'killed a service process left by an earlier node run' && l.pid === servicePid)).toBe(true);
  });
});

describe('services: the hot-plug API over the control endpoint and the CLI', () => {
  it('list, stop, start, restart, disable and enable through HTTP with `linguamesh node services`', async () => {
    h = await bootServices([{ id: 'tts-es' }, { id: 'asr-en', type: 'asr' }, { id: 'broken', raw: { id: 'broken' } }]);
    await h.waitState('tts-es', 'running');
    await h.waitState('asr-en', 'running');
    server = await startHttpServer({ port: 0, routes: h.runtime.routes });
    const node = `http://127.0.0.1:${server.port}`;
    const run = (args: string[]) => settle(h!.clock, cli([...args, '--node', node]), args.join(' '));

    const list = await run(['node', 'services', 'list']);
    expect(list.exitCode).toBe(0);
    const lines = list.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+VERSION\s+TYPE\s+STATE\s+WIRE\s+ENABLED\s+URL\s+PID\s+LAST ERROR$/);
    expect(lines.find((l) => l.startsWith('tts-es'))).toMatch(/^tts-es\s+1\.0\.0\s+tts\s+running\s+running\s+yes\s+http:\/\/127\.0\.0\.1:\d+\s+\d+$/);
    expect(lines.find((l) => l.startsWith('broken'))).toMatch(/error\s+error\s+yes\s+-\s+-\s+invalid service\.json/);

    const json = JSON.parse((await run(['node', 'services', 'list', '--json'])).out) as { services: Array<{ id: string; wireStatus: string }> };
    expect(json.services.map((s) => [s.id, s.wireStatus])).toEqual([['asr-en', 'running'], ['broken', 'error'], ['tts-es', 'running']]);

    const stopped = await run(['node', 'services', 'stop', 'tts-es']);
    expect(stopped).toMatchObject({ exitCode: 0, out: 'tts-es: stopped\n' });
    expect(h.state('tts-es')).toBe('stopped');
    expect((await run(['node', 'services', 'start', 'tts-es'])).out).toMatch(/^tts-es: running \(http:\/\/127\.0\.0\.1:\d+, pid \d+\)\n$/);
    const before = h.runtime.registry.get('asr-en')!.pid;
    await run(['node', 'services', 'restart', 'asr-en']);
    expect(h.runtime.registry.get('asr-en')!.pid).not.toBe(before);
    expect((await run(['node', 'services', 'disable', 'asr-en'])).out).toBe('asr-en: stopped\n');
    expect(h.runtime.registry.get('asr-en')!.enabled).toBe(false);
    expect((await run(['node', 'services', 'enable', 'asr-en'])).out).toMatch(/^asr-en: running/);

    const unknown = await run(['node', 'services', 'start', 'nope']);
    expect(unknown).toMatchObject({ exitCode: 1, err: 'error [SERVICE_NOT_FOUND]: no service "nope" on this node\n' });
    const invalid = await run(['node', 'services', 'start', 'broken']);
    expect(invalid.err).toMatch(/^error \[INVALID_SERVICE_JSON\]/);

    const res = await fetch(`${node}/api/services/nope`);
    expect(res.status).toBe(404);
    const rescan = await fetch(`${node}/api/services/rescan`, { method: 'POST' });
    expect(await rescan.json()).toEqual({ added: [], removed: [], changed: [] });
  });

  it('an unreachable node is reported with NODE_UNREACHABLE', async () => {
    const result = await cli(['node', 'services', 'list', '--node', 'http://127.0.0.1:9']);
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(/^error \[NODE_UNREACHABLE\]/);
  });
});
