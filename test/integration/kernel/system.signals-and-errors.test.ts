import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromCallback, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createJsonlRecorder } from '../../../src/adapters/inspection.adapter.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { supervisorChild } from '../../../src/kernel/supervisor.js';
import { bootSystem } from '../../../src/kernel/system.js';
import { workerMachine } from '../../support/supervision-fixtures.js';

describe('system', () => {
  it('SIGTERM runs the ordered shutdown and the process exits by itself', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/system/signal-shutdown.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('ready\n') && !child.killed) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = out.trim().split('\n');
    expect(code).toBe(0);
    expect(lines.slice(lines.indexOf('ready') + 1)).toEqual(['shutdown:last', 'stop:last', 'stop:stubborn', 'shutdown:first', 'stop:first', 'exit:shutdown']);
  });

  it('a failure that escalates to the root ends the tree without crashing the process', async () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const crashing = setup({}).createMachine({
      entry: () => {
        throw new Error('fails at every start');
      },
    });
    const handle = bootSystem({
      clock,
      root: {
        id: 'root',
        strategy: 'one_for_one',
        children: [
          { id: 'bystander', logic: workerMachine, input: { name: 'bystander', log } },
          supervisorChild({ id: 'inner', strategy: 'one_for_one', clock, children: [{ id: 'crasher', logic: crashing, maxRestarts: 1, minBackoffMs: 0 }] }, { maxRestarts: 0 }),
        ],
      },
    });
    await clock.advanceAsync(0);
    const exit = await handle.done;
    expect(exit).toMatchObject({ reason: 'failed', error: { code: 'SUPERVISOR_INTENSITY_EXCEEDED', details: { supervisorId: 'root' } } });
    // The bystander's resources were released when the root failed.
    expect(log).toEqual(['start:bystander', 'stop:bystander']);
  });

  it('stop() is idempotent and bounded: a tree that overruns shutdownTimeoutMs is stopped by force', async () => {
    const clock = new FakeClock();
    const cleaned: string[] = [];
    const hanging = setup({ actors: { res: fromCallback(() => () => cleaned.push('released')) } }).createMachine({ invoke: { src: 'res' } });
    const handle = bootSystem({ clock, shutdownTimeoutMs: 1_000, root: { id: 'root', strategy: 'one_for_one', children: [{ id: 'h', logic: hanging, shutdownMs: 10_000 }] } });
    const first = handle.stop();
    expect(handle.stop()).toBe(first);
    await clock.advanceAsync(1_000);
    expect(await first).toEqual({ reason: 'forced' });
    expect(cleaned).toEqual(['released']);
  });

  it('--record writes the inspection stream as JSON lines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lm-record-')), 'record.jsonl');
    const recorder = createJsonlRecorder(file);
    const log: string[] = [];
    const handle = bootSystem({ inspectors: [recorder.observer], root: { id: 'root', strategy: 'one_for_one', children: [{ id: 'w', logic: workerMachine, input: { name: 'w', log }, shutdownMs: 100 }] } });
    await handle.stop();
    await recorder.close();
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; actor?: { id?: string }; event?: { type?: string } });
    expect(records.some((r) => r.type === '@xstate.actor' && r.actor?.id === 'w')).toBe(true);
    expect(records.some((r) => r.type === '@xstate.event' && r.event?.type === 'supervisor.shutdown')).toBe(true);
    expect(records.every((r) => typeof r.type === 'string')).toBe(true);
  });
});
