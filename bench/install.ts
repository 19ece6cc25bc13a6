/**
 * Package install benchmark (issue "Model hub and service packages"):
 * (1) download + verify + unpack of an N MB package from a local hub through the node's package
 *     manager, against the raw baseline in the same run: a plain HTTP download to disk, the sha256
 *     of the file, and a plain unzip with yauzl. Printed as a throughput ratio (goal ≥ 0.7).
 * (2) bytes re-fetched when the download is cut at 50 % and started again (goal < 2 % extra).
 * The package (random, incompressible data) is generated in a temp directory and removed after.
 *
 *   npx tsx bench/install.ts [--mb=200] [--runs=3]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import yauzl from 'yauzl';
import { publishPackage } from '../src/adapters/hub-publish.adapter.js';
import { packServiceDirectory } from '../src/adapters/package-pack.adapter.js';
import { createNodePackageManager } from '../src/cli/package-manager.js';
import { startHub } from '../src/cli/start-hub.js';
import { createBus } from '../src/kernel/bus.js';
import type { ServiceActivationPort } from '../src/kernel/ports/service-activation.port.js';
import { argNumber, fmt, report } from './stats.js';

const MB = argNumber('mb', 200);
const RUNS = argNumber('runs', 3);
const MiB = 1024 * 1024;

const noActivation: ServiceActivationPort = { activate: async () => undefined, deactivate: async () => undefined, inUseVersions: () => new Set() };

async function writeRandom(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= 4 * MiB) {
    if (!out.write(randomBytes(Math.min(4 * MiB, left)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The baseline: plain download to disk, sha256 of the file, plain yauzl unzip. */
async function baseline(url: string, dir: string): Promise<number> {
  const start = performance.now();
  const file = join(dir, 'download.zip');
  const res = await request(url);
  await pipeline(res.body, createWriteStream(file));
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB }) as AsyncIterable<Buffer>) hash.update(chunk);
  hash.digest('hex');
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  try {
    for await (const entry of zip.eachEntry()) {
      const target = join(dir, 'unzipped', entry.fileName);
      if (entry.fileName.endsWith('/')) continue;
      await mkdir(dirname(target), { recursive: true });
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
    }
  } finally {
    zip.close();
  }
  return performance.now() - start;
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'lm-bench-install-'));
  try {
    const source = join(tmp, 'svc');
    await mkdir(join(source, 'models'), { recursive: true });
    await writeFile(join(source, 'service.json'), JSON.stringify({ id: 'bench-mt', name: 'Bench MT', version: '1.0.0', type: 'nmt', exec: { command: 'node', args: ['server.mjs'] } }));
    await writeFile(join(source, 'server.mjs'), '// not started by the benchmark\n');
    await writeRandom(join(source, 'models', 'weights.bin'), MB * MiB);
    const packed = await packServiceDirectory({ sourceDir: source, outFile: join(tmp, 'bench-mt.zip') });
    await rm(source, { recursive: true });
    const storage = join(tmp, 'storage');
    await publishPackage({ storageDir: storage, zipPath: packed.file });
    await rm(packed.file);
    const hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
    const url = `${hub.url}/storage/services/bench-mt/1.0.0.zip`;
    const size = packed.sizeBytes;

    const baseMs: number[] = [];
    const oursMs: number[] = [];
    const phases: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const baseDir = join(tmp, `base-${run}`);
      await mkdir(baseDir);
      baseMs.push(await baseline(url, baseDir));
      await rm(baseDir, { recursive: true });

      const servicesDir = join(tmp, `services-${run}`);
      const runBus = createBus();
      const manager = createNodePackageManager({ hubUrl: hub.url, servicesDir }, { activation: noActivation, bus: runBus });
      const start = performance.now();
      const marks: string[] = [];
      runBus.subscribe('package.progress', (e) => {
        if (marks.at(-1)?.startsWith(e.phase) !== true) marks.push(`${e.phase}@${fmt(performance.now() - start, 0)}`);
      });
      await manager.install('bench-mt', '1.0.0');
      oursMs.push(performance.now() - start);
      if (oursMs.at(-1) === Math.min(...oursMs)) phases.splice(0, phases.length, ...marks);
      await manager.close();
      await rm(servicesDir, { recursive: true });
    }

    // Cut at 50 %: cancel when half the file is on disk, then install again (resume).
    const sentBefore = await bytesSent(hub.url);
    const servicesDir = join(tmp, 'services-cut');
    const bus = createBus();
    const manager = createNodePackageManager({ hubUrl: hub.url, servicesDir }, { activation: noActivation, bus });
    const cut = new AbortController();
    bus.subscribe('package.progress', (e) => {
      if (e.phase === 'download' && e.bytesDone >= size / 2) cut.abort();
    });
    await manager.install('bench-mt', '1.0.0', { signal: cut.signal }).catch(() => undefined);
    const downloads = join(servicesDir, '.packages', 'downloads');
    const partial = (await stat(join(downloads, `bench-mt@1.0.0-${packed.sha256.slice(0, 16)}.zip.partial`))).size;
    await manager.install('bench-mt', '1.0.0');
    await manager.close();
    const sent = (await bytesSent(hub.url)) - sentBefore;
    await hub.stop();

    const best = (xs: number[]) => Math.min(...xs);
    const mbps = (ms: number) => size / MiB / (ms / 1000);
    report(`package install, ${fmt(size / MiB, 1)} MiB (best of ${RUNS})`, [
      ['baseline: download + sha256 + unzip', `${fmt(best(baseMs), 0)} ms  (${fmt(mbps(best(baseMs)), 0)} MiB/s)  runs ${baseMs.map((m) => fmt(m, 0)).join(', ')}`],
      ['package manager: download+verify+unpack+switch', `${fmt(best(oursMs), 0)} ms  (${fmt(mbps(best(oursMs)), 0)} MiB/s)  runs ${oursMs.map((m) => fmt(m, 0)).join(', ')}`],
      ['  phases of the best run (ms from start)', phases.join(' ')],
      ['throughput ratio (goal >= 0.7)', fmt(best(baseMs) / best(oursMs), 2)],
      ['cut at 50 %: partial kept', `${fmt(partial / MiB, 1)} MiB`],
      ['bytes sent for both attempts', `${fmt(sent / MiB, 2)} MiB`],
      ['re-fetched beyond the file (goal < 2 %)', `${fmt(((sent - size) / size) * 100, 2)} %`],
    ]);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function bytesSent(hubUrl: string): Promise<number> {
  const text = await (await request(`${hubUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith('linguamesh_hub_file_bytes_sent_total{kind="package"}'));
  return Number(line?.split(' ').pop() ?? 0);
}

await main();
