/**
 * The wire contract of PROTOCOL.md as zod schemas and inferred types, plus the pure helpers that
 * belong to it (language normalization, ids, base64, Opus Plan-A framing). Nothing here imports
 * the rest of the project.
 */
export * from './validation.js';
export * from './common.schema.js';
export * from './language.js';
export * from './ids.js';
export * from './base64.js';
export * from './plan-a.js';
export * from './wav.js';
export * from './node-capabilities.schema.js';
export * from './node-jobs.schema.js';
export * from './node-link.schema.js';
export * from './session-link.schema.js';
export * from './session-results.schema.js';
export * from './service-json.schema.js';
export * from './service-api.schema.js';
export * from './hub-api.schema.js';
export * from './node-files.schema.js';
export * from './node-control.schema.js';
export * from './hub-storage.schema.js';
export * from './package-signature.js';
export * from './package-control.schema.js';
export * from './version-order.js';
