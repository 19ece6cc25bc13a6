import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const started: number[] = [];

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/linguamesh.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) {
    started.push(child.pid);
    appendFileSync(join(process.env.LINGUAMESH_TEST_PIDS_DIR ?? '/tmp', 'node-probe.pids'), `${child.pid}\n`);
  }
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already exited */
    }
  }
});

describe('linguamesh node --probe on this machine', () => {
  it('prints the cores, memory and GPUs of this machine, for people and as JSON', async () => {
    const [human, json] = await Promise.all([run(['node', '--probe']), run(['node', '--probe', '--json'])]);
    expect(human.code, human.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    const memoryGb = Math.round(totalmem() / 2 ** 30);
    expect(human.stdout).toMatch(new RegExp(`^cpu: +${cpus().length} cores`, 'm'));
    expect(human.stdout).toMatch(new RegExp(`^memory: +${memoryGb} GB$`, 'm'));
    expect(human.stdout).toMatch(/^gpus: +(none|\d+ \(from (systeminformation|nvidia-smi)\))$/m);
    const probe = JSON.parse(json.stdout) as { platform: string; hardware: { cpu_cores: number; memory_gb: number; gpus: unknown[] } };
    expect(probe.hardware).toMatchObject({ cpu_cores: cpus().length, memory_gb: memoryGb });
    expect(Array.isArray(probe.hardware.gpus)).toBe(true);
    expect(probe.platform).toBe(process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'macos' : process.platform);
  });
});
