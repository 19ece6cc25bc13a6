/**
 * Runs every benchmark in bench/ in turn, each as its own process (`node --import tsx`), with its
 * output shown as it comes; then prints a summary: per benchmark, whether it exited cleanly, how
 * long it took, and the lines that state a ratio or a goal. Exits non-zero if any benchmark failed.
 *
 * A benchmark is a file of bench/ that no other file of bench/ imports: the others (stats.ts,
 * audio-throughput.ts, the processes scheduler.ts forks) are parts of benchmarks, not benchmarks.
 *
 *   npx tsx bench/run-all.ts [name…]   (names without `.ts`; default: all of them)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmt } from './stats.js';

const BENCH_DIR = resolve(import.meta.dirname);
const SELF = 'run-all.ts';
/** The lines of a benchmark's output that go into the summary. */
const SUMMARY_LINE = /ratio|goal|\/ (cli|baseline|direct)/i;

/** Files of bench/ that another file of bench/ names as `./<name>.js` or `./<name>.ts`. */
function benchmarks(): string[] {
  const files = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.ts') && f !== SELF);
  const sources = files.map((f) => readFileSync(join(BENCH_DIR, f), 'utf8'));
  const isPart = (file: string): boolean => {
    const base = file.slice(0, -'.ts'.length);
    return sources.some((source, i) => files[i] !== file && (source.includes(`'./${base}.js'`) || source.includes(`'./${base}.ts'`)));
  };
  return files.filter((f) => !isPart(f)).sort();
}

interface Outcome {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  lines: string[];
}

function run(file: string): Promise<Outcome> {
  const name = file.slice(0, -'.ts'.length);
  console.log(`\n######## ${name}\n`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, file)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  // Stopping this runner stops the benchmark, which cleans up after itself on SIGTERM.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolveRun) => {
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (partial) lines.push(partial);
      resolveRun({ name, code, signal, seconds: (performance.now() - started) / 1000, lines: lines.filter((l) => SUMMARY_LINE.test(l)) });
    });
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const all = benchmarks();
  const unknown = wanted.filter((w) => !all.includes(`${w}.ts`));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; there are: ${all.map((f) => f.slice(0, -3)).join(', ')}`);
    process.exit(2);
  }
  const chosen = wanted.length > 0 ? all.filter((f) => wanted.includes(f.slice(0, -3))) : all;
  const outcomes: Outcome[] = [];
  for (const file of chosen) outcomes.push(await run(file));

  console.log('\n######## summary');
  for (const o of outcomes) {
    const status = o.code === 0 ? 'ok' : `FAILED (${o.signal ?? `exit ${String(o.code)}`})`;
    console.log(`\n${o.name}: ${status}, ${fmt(o.seconds, 0)} s`);
    for (const line of o.lines) console.log(`  ${line.trim()}`);
  }
  const failed = outcomes.filter((o) => o.code !== 0);
  if (failed.length > 0) {
    console.log(`\n${failed.length} of ${outcomes.length} benchmarks failed: ${failed.map((o) => o.name).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
