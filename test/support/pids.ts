/** Records the pid of a process a test started, for the suite's orphan check (test/support/global-setup.ts). */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export function recordPid(pid: number | undefined): void {
  const dir = process.env.LINGUAMESH_TEST_PIDS_DIR;
  if (pid === undefined || dir === undefined) return;
  appendFileSync(join(dir, `${process.pid}.pids`), `${pid}\n`);
}
