// Lint rules that carry architecture: machines/ and actors/ reach I/O only through kernel ports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO_MODULES = [
  'ws', 'undici', 'piscina', 'ioredis', 'systeminformation', 'child_process', 'node:child_process',
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http',
  'sherpa-onnx-node', '@evan/opus', 'koffi', 'yauzl', 'yazl', 'send',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cache/**', 'native/services/*/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', fetch: 'readonly', queueMicrotask: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src/machines/**/*.ts', 'src/actors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: IO_MODULES.map((name) => ({ name, message: 'machines/ and actors/ do no I/O: use a port from src/kernel/ports/ (ARCHITECTURE.md).' })),
        patterns: [{ group: ['**/adapters/**', '**/adapters'], message: 'Only src/cli/ imports adapters (ARCHITECTURE.md dependency direction).' }],
      }],
    },
  },
  {
    // STYLE.md §1/§9: a worker entry shares types with its adapter and loads nothing else of src/.
    files: ['native/workers/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['**/src/**'], allowTypeImports: true, message: 'A worker loads nothing of src/: import types only (import type).' }],
      }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/kernel/**', '**/machines/**', '**/actors/**', '**/adapters/**', '**/cli/**'], message: 'protocol/ is the bottom layer and imports nothing of the project.' }] }],
    },
  },
);
