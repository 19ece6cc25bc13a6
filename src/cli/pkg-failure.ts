/** How a `linguamesh pkg` command fails: one line `error <CODE>: <message>` on stderr and exit code 1. */
import { isKernelError } from '../kernel/errors.js';

/** Runs a command's work; a failure is reported, not thrown. */
export async function runPkgCommand(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const code = isKernelError(err) ? err.code : 'ERROR';
    process.stderr.write(`error ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
