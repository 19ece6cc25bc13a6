/**
 * `linguamesh node` refuses bad hub flags before anything starts, with one line for the operator.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import { parseHubKeys } from '../../../src/cli/node.command.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

async function runNode(args: string[]): Promise<string> {
  const program = buildProgram();
  let stderr = '';
  for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined });
  const dataDir = mkdtempSync(join(tmpdir(), 'lm-node-flags-'));
  await expect(program.parseAsync(['node', 'linguamesh', 'node', '--scheduler', 'ws://127.0.0.1:1', '--data-dir', dataDir, ...args])).rejects.toBeInstanceOf(CommanderError);
  return stderr;
}

const failWith = (message: string): never => {
  throw new Error(message);
};

describe('linguamesh node: hub flags', () => {
  it('parses repeated --hub-key flags into keys by key id', () => {
    expect(parseHubKeys({ error: failWith }, [`k1=${KEY}`, ` k2 = ${KEY} `, `k1=${KEY}`])).toEqual({ k1: KEY, k2: KEY });
    expect(() => parseHubKeys({ error: failWith }, ['no-equals-sign'])).toThrow('--hub-key must be <key_id>=<base64 public key>');
    expect(() => parseHubKeys({ error: failWith }, ['=abc'])).toThrow('--hub-key must be');
    expect(() => parseHubKeys({ error: failWith }, [`k1=${KEY}`, 'k1=AAAA'])).toThrow('--hub-key k1 is given twice with different keys');
  });

  it.each([
    { args: ['--hub', 'http://127.0.0.1:1', '--hub-key', 'k1=AAAA'], says: 'must be a raw 32-byte Ed25519 key in base64' },
    { args: ['--hub-key', `k1=${KEY}`], says: '--hub-key needs --hub' },
    { args: ['--hub', 'http://127.0.0.1:1', '--hub-key', 'no-equals-sign'], says: '--hub-key must be <key_id>=<base64 public key>' },
    { args: ['--hub', 'hub.local:5000'], says: '--hub must be an http(s):// URL' },
  ])('refuses $args before it starts', async ({ args, says }) => {
    expect(await runNode(args)).toContain(says);
  });
});
