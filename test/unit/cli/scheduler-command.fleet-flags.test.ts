/**
 * `linguamesh scheduler`: the fleet settings (instance lease, reservation lease, resync period) are
 * flags too, with the precedence of every role flag, and bad values are refused before anything
 * starts. In process, with `--print-config`: nothing listens.
 */
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.LINGUAMESH_SCHEDULER_INSTANCE_LEASE_MS;
});

async function printConfig(args: string[]): Promise<Record<string, unknown>> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  await buildProgram().parseAsync(['node', 'linguamesh', 'scheduler', '--store', 'redis://127.0.0.1:1', ...args, '--print-config']);
  vi.restoreAllMocks();
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function refused(args: string[]): Promise<string> {
  const program = buildProgram();
  let stderr = '';
  for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined });
  await expect(program.parseAsync(['node', 'linguamesh', 'scheduler', ...args, '--print-config'])).rejects.toBeInstanceOf(CommanderError);
  return stderr;
}

describe('linguamesh scheduler: fleet flags', () => {
  it('takes the leases and the resync period from flags, over the environment, and keeps the defaults otherwise', async () => {
    expect(await printConfig([])).toMatchObject({ instanceLeaseMs: 6_000, reservationLeaseMs: 30_000, fleetResyncMs: 30_000 });
    process.env.LINGUAMESH_SCHEDULER_INSTANCE_LEASE_MS = '7000';
    expect(await printConfig([])).toMatchObject({ instanceLeaseMs: 7_000 });
    expect(await printConfig(['--instance-lease-ms', '9000', '--reservation-lease-ms', '20000', '--fleet-resync-ms', '12000'])).toMatchObject({
      instanceLeaseMs: 9_000,
      reservationLeaseMs: 20_000,
      fleetResyncMs: 12_000,
    });
  });

  it.each([
    { args: ['--instance-lease-ms', '100'], says: 'at least 300' },
    { args: ['--reservation-lease-ms', 'soon'], says: 'at least 300' },
    { args: ['--fleet-resync-ms', '0'], says: 'above 0' },
  ])('refuses $args before it starts', async ({ args, says }) => {
    expect(await refused(args)).toContain(says);
  });
});
