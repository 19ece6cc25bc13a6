/**
 * `linguamesh node --hub … --hub-key …` as an OS process, driven by `linguamesh pkg` processes
 * through its control endpoint: the hub's catalogue, a signed package installed and running, an
 * unsigned one refused, the service stopped with the node.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import { describeSigningKey } from '../../../src/protocol/package-signature.js';
import { alive } from '../../support/hotplug-harness.js';
import { runCli } from '../../support/packages/cli-process.js';
import { buildTinyPackage } from '../../support/packages/package-fixtures.js';
import { recordPid } from '../../support/pids.js';
import { ScriptedScheduler, waitFor } from '../../support/scripted-scheduler.js';

let tmp: string;
let hub: HubHandle;
let scheduler: ScriptedScheduler;
let signing: { pem: string; keyId: string; publicKey: string };
const started: number[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-node-hub-cli-'));
  const storage = join(tmp, 'storage');
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  signing = { pem, ...describeSigningKey(pem) };
  const signed = await buildTinyPackage(tmp, { id: 'tiny-echo', version: '1.0.0' });
  await publishPackage({ storageDir: storage, zipPath: signed.zip, signingKeyPem: pem });
  const unsigned = await buildTinyPackage(tmp, { id: 'tiny-plain', version: '1.0.0' });
  await publishPackage({ storageDir: storage, zipPath: unsigned.zip });
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
  scheduler = await ScriptedScheduler.start();
});

afterAll(async () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already exited */
    }
  }
  await scheduler?.close();
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

function startNodeProcess(args: string[]) {
  const child = spawn(process.execPath, ['bin/linguamesh.js', 'node', '--scheduler', scheduler.url, '--http-port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  recordPid(child.pid);
  if (child.pid) started.push(child.pid);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, stderr: () => stderr };
}

describe('linguamesh node --hub', () => {
  it('serves pkg available / install / list; a signed package runs, an unsigned one is refused; SIGTERM stops the service with the node', async () => {
    const node = startNodeProcess(['--data-dir', join(tmp, 'node'), '--hub', hub.url, '--hub-key', `${signing.keyId}=${signing.publicKey}`]);
    await waitFor(() => /control endpoint http:\/\/127\.0\.0\.1:\d+/.test(node.stderr()), 'the control endpoint', 20_000);
    const url = `http://127.0.0.1:${/control endpoint http:\/\/127\.0\.0\.1:(\d+)/.exec(node.stderr())![1]}`;

    const available = await runCli(['pkg', 'available', '--node', url, '--json']);
    expect(available, available.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(available.stdout)).toEqual([
      expect.objectContaining({ service_id: 'tiny-echo', latest_version: '1.0.0', installed_versions: [] }),
      expect.objectContaining({ service_id: 'tiny-plain', latest_version: '1.0.0', installed_versions: [] }),
    ]);

    const installed = await runCli(['pkg', 'install', 'tiny-echo', '--node', url]);
    expect(installed, installed.stderr).toMatchObject({ code: 0, stdout: 'installed tiny-echo@1.0.0\n' });
    const service = (await (await fetch(`${url}/api/services/tiny-echo`)).json()) as { state: string; version: string; pid: number; baseUrl: string };
    recordPid(service.pid);
    expect(service).toMatchObject({ state: 'running', version: '1.0.0' });
    expect(await (await fetch(`${service.baseUrl}/health`)).json()).toEqual({ status: 'ok', version: '1.0.0' });

    // With a hub key configured, a package without a signature is never unpacked (§10.6).
    const refused = await runCli(['pkg', 'install', 'tiny-plain', '--node', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error SIGNATURE_MISSING');

    const listed = await runCli(['pkg', 'list', '--node', url, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([{ service_id: 'tiny-echo', active_version: '1.0.0', versions: ['1.0.0'] }]);

    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    expect(alive(service.pid)).toBe(false);
  }, 60_000);
});
