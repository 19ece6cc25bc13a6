/**
 * Builds a deployable directory from a reference service's source (`native/services/<id>/`):
 * esbuild bundles `server.ts` into `server.mjs` (and each top-level `*.worker.ts` into its own
 * `*.worker.mjs`, since a worker thread needs a file of its own), native npm packages stay out of
 * the bundle and are copied into `node_modules/`, and every other non-TypeScript file
 * (`service.json` first of all) is copied as is. The result runs with `node server.mjs` from any
 * directory, with nothing from this repository on the module path. Used by the tests and by
 * `linguamesh pkg pack`.
 */
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from '../kernel/errors.js';

/** npm packages with native code: never bundled, always copied with the service. */
export const NATIVE_PACKAGES: readonly string[] = ['koffi', '@evan/opus', 'sherpa-onnx-node'];

export interface ServiceBundleOptions {
  /** Packages left out of the bundle and copied (with their dependencies) when the service imports them. Default `NATIVE_PACKAGES`. */
  nativePackages?: readonly string[];
  /** Directories searched, in order, for those packages. Default: every `node_modules` above `sourceDir`, then above this module. */
  nodeModulesDirs?: readonly string[];
  /** Minify the bundles. Default false, so stack traces stay readable. */
  minify?: boolean;
  /** Write `.map` files next to the bundles. Default false. */
  sourcemap?: boolean;
}

export interface ServiceBundle {
  /** Absolute path of the built directory. */
  outDir: string;
  /** Absolute path of `server.mjs`. */
  entry: string;
  /** Absolute paths of the worker bundles (`*.worker.mjs`). */
  workers: string[];
  /** npm packages copied into `outDir/node_modules/`. */
  packages: string[];
}

/** The `require` that bundled CommonJS modules call, created for the ESM bundle. */
const CREATE_REQUIRE_BANNER = "import { createRequire as __linguameshCreateRequire } from 'node:module';\nconst require = __linguameshCreateRequire(import.meta.url);";

/** Files a copied package does not need at run time (sources, docs, other platforms' binaries). */
const PRUNE_RULES: Readonly<Record<string, (file: string) => boolean>> = {
  // koffi ships its C++ sources and build tooling; only its .js/.cjs loaders and the binary package run.
  koffi: (file) => /^(doc|lib|vendor)(\/|$)|\.(cc|hh|h|inc|S|asm|def)$|CMakeLists\.txt$|^cnoke\.cjs$|^CHANGELOG\.md$/.test(file),
  '@evan/opus': (file) => /^tests(\/|$)/.test(file) || (/^node\/.+\.node$/.test(file) && file !== `node/${process.arch}-${process.platform}.node`),
};

function buildError(message: string, cause?: unknown): KernelError {
  return new KernelError('SERVICE_BUILD_FAILED', message, { cause });
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const BUILTINS = new Set(builtinModules);

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(packageName(specifier));
}

function nodeModulesAbove(start: string): string[] {
  const dirs: string[] = [];
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    dirs.push(join(dir, 'node_modules'));
    if (dirname(dir) === dir) return dirs;
  }
}

async function findEntryPoints(sourceDir: string): Promise<Record<string, string>> {
  const names = await readdir(sourceDir);
  if (!names.includes('server.ts')) throw buildError(`${sourceDir} has no server.ts`);
  if (!names.includes('service.json')) throw buildError(`${sourceDir} has no service.json`);
  const entries: Record<string, string> = { server: join(sourceDir, 'server.ts') };
  for (const name of names) if (name.endsWith('.worker.ts')) entries[name.slice(0, -'.ts'.length)] = join(sourceDir, name);
  return entries;
}

/** Packages the bundles import but do not contain. */
function externalImports(metafile: Metafile): Set<string> {
  const used = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) if (imported.external && !isBuiltin(imported.path)) used.add(packageName(imported.path));
  }
  return used;
}

function findPackage(name: string, searchDirs: readonly string[]): string | undefined {
  return searchDirs.map((dir) => join(dir, name)).find((dir) => existsSync(join(dir, 'package.json')));
}

async function copyPackage(name: string, searchDirs: readonly string[], outModules: string, copied: Set<string>): Promise<void> {
  if (copied.has(name)) return;
  const home = findPackage(name, searchDirs);
  if (!home) throw buildError(`package ${name} is not installed (searched ${searchDirs.length} node_modules directories)`);
  copied.add(name);
  const source = await realpath(home);
  const prune = PRUNE_RULES[name];
  await cp(source, join(outModules, name), {
    recursive: true,
    dereference: true,
    filter: (file) => {
      const rel = relative(source, file).split(sep).join('/');
      return rel === '' || !(rel === 'node_modules' || rel.startsWith('node_modules/') || prune?.(rel));
    },
  });
  const manifest = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  // A package's own dependencies resolve from its real location first, then from the search path.
  const depDirs = [...nodeModulesAbove(dirname(source)), ...searchDirs];
  for (const dep of Object.keys(manifest.dependencies ?? {})) await copyPackage(dep, depDirs, outModules, copied);
  // Native packages ship their binaries as optional per-platform packages (koffi →
  // @koromix/koffi-linux-x64, sherpa-onnx-node → sherpa-onnx-linux-x64); npm installed only the
  // ones for this machine, and those are the ones to take along.
  for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
    if (findPackage(dep, depDirs)) await copyPackage(dep, depDirs, outModules, copied);
  }
}

/** Copies every file of the service directory that is not TypeScript (service.json, data, docs). */
async function copyResources(sourceDir: string, outDir: string): Promise<void> {
  await cp(sourceDir, outDir, {
    recursive: true,
    dereference: true,
    filter: (file) => {
      const rel = relative(sourceDir, file).split(sep).join('/');
      return rel === '' || !(rel === 'node_modules' || rel.startsWith('node_modules/') || rel.endsWith('.ts'));
    },
  });
}

/**
 * Bundles the service at `sourceDir` into `outDir` (emptied first). Resolves with the entry to run
 * (`node <entry>`, cwd `outDir`). Rejects with a `KernelError` `SERVICE_BUILD_FAILED`.
 */
export async function buildServiceDirectory(sourceDir: string, outDir: string, options: ServiceBundleOptions = {}): Promise<ServiceBundle> {
  const source = resolve(sourceDir);
  const target = resolve(outDir);
  const nativePackages = options.nativePackages ?? NATIVE_PACKAGES;
  const searchDirs = options.nodeModulesDirs ?? [...nodeModulesAbove(source), ...nodeModulesAbove(dirname(fileURLToPath(import.meta.url)))];
  const entryPoints = await findEntryPoints(source);
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  let metafile: Metafile;
  try {
    const result = await build({
      entryPoints,
      outdir: target,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      banner: { js: CREATE_REQUIRE_BANNER },
      external: nativePackages.flatMap((name) => [name, `${name}/*`]),
      minify: options.minify ?? false,
      sourcemap: options.sourcemap ?? false,
      metafile: true,
      logLevel: 'silent',
    });
    metafile = result.metafile;
  } catch (err) {
    throw buildError(`esbuild could not bundle ${source}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  await copyResources(source, target);
  const copied = new Set<string>();
  for (const name of externalImports(metafile)) await copyPackage(name, searchDirs, join(target, 'node_modules'), copied);
  return {
    outDir: target,
    entry: join(target, 'server.mjs'),
    workers: Object.keys(entryPoints)
      .filter((name) => name !== 'server')
      .map((name) => join(target, `${name}.mjs`)),
    packages: [...copied].sort(),
  };
}
