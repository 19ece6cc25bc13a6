/**
 * Runs once around the whole suite. Tests that spawn OS processes record their pids under
 * LINGUAMESH_TEST_PIDS_DIR; at teardown every recorded pid must be gone (no orphans).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default function setup(): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'linguamesh-pids-'));
  process.env.LINGUAMESH_TEST_PIDS_DIR = dir;
  return async () => {
    const pids = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map(Number));
    const deadline = Date.now() + 5_000;
    let orphans = pids.filter(alive);
    while (orphans.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      orphans = orphans.filter(alive);
    }
    rmSync(dir, { recursive: true, force: true });
    if (orphans.length > 0) {
      for (const pid of orphans) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      throw new Error(`processes started by the suite outlived it: ${orphans.join(', ')}`);
    }
  };
}
