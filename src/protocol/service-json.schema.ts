/**
 * `service.json` (PROTOCOL.md §9.7): the manifest at the root of every service directory and
 * package, read into one normalized `ServiceManifest` with aliases resolved and defaults applied.
 * Unknown fields are ignored; the informative ones (`sha256`, `tags`, `created_at`,
 * `dependencies`) are not read.
 */
import { z } from 'zod';
import { ServiceIdSchema } from './ids.js';
import { anyToAnyPairs, normalizeLanguage, normalizeLanguageSet, normalizePairs, type LanguagePair } from './language.js';
import { Int, opt, parseWith, type ParseResult } from './validation.js';

/** The `languages` object of §9.7 (also the shape of a health response's `languages`, §9.1). */
export const ServiceLanguagesObjectSchema = z.object({
  asr: opt(z.array(z.string())),
  tts: opt(z.array(z.string())),
  voices: opt(z.record(z.string(), z.array(z.string()))),
  nmt: opt(z.array(z.object({ src: z.string(), tgt: z.string() }))),
  /** Every ordered pair of distinct members. */
  nmt_any_to_any: opt(z.array(z.string())),
  semantic: opt(z.array(z.string())),
});
/** `languages` as written: an object, or a plain array meaning the languages of the service's own type. */
export const ServiceLanguagesInputSchema = z.union([z.array(z.string()), ServiceLanguagesObjectSchema]);
export type ServiceLanguagesInput = z.infer<typeof ServiceLanguagesInputSchema>;

/** Declared languages, normalized (§1.7) and reduced to the service's own type. */
export interface ServiceLanguages {
  asr: string[];
  tts: string[];
  /** Voice names per (normalized) language, in declared order: `voices[tgt][0]` is the default voice (§9.4). */
  voices: Record<string, string[]>;
  nmtPairs: LanguagePair[];
  semantic: string[];
}

/**
 * Normalizes a `languages` value for a service of `type` (PROTOCOL.md §9.7): only the keys of the
 * service's own type count (`asr`; `tts` and `voices` for TTS, whose languages are the union of
 * both; `nmt` and `nmt_any_to_any` for NMT; `semantic`); a plain array is the languages of the own
 * type, for NMT every ordered pair of its members. Other types declare no languages.
 */
export function normalizeServiceLanguages(type: string, input: ServiceLanguagesInput | undefined): ServiceLanguages {
  const out: ServiceLanguages = { asr: [], tts: [], voices: {}, nmtPairs: [], semantic: [] };
  if (input === undefined) return out;
  if (Array.isArray(input)) {
    if (type === 'asr') out.asr = normalizeLanguageSet(input);
    else if (type === 'tts') out.tts = normalizeLanguageSet(input);
    else if (type === 'semantic') out.semantic = normalizeLanguageSet(input);
    else if (type === 'nmt') out.nmtPairs = anyToAnyPairs(input);
    return out;
  }
  if (type === 'asr') out.asr = normalizeLanguageSet(input.asr ?? []);
  if (type === 'semantic') out.semantic = normalizeLanguageSet(input.semantic ?? []);
  if (type === 'nmt') out.nmtPairs = normalizePairs([...(input.nmt ?? []), ...anyToAnyPairs(input.nmt_any_to_any ?? [])]);
  if (type === 'tts') {
    const voices = new Map<string, string[]>();
    for (const [lang, names] of Object.entries(input.voices ?? {})) {
      const key = normalizeLanguage(lang);
      voices.set(key, [...new Set([...(voices.get(key) ?? []), ...names])]);
    }
    out.voices = Object.fromEntries(voices);
    out.tts = normalizeLanguageSet([...(input.tts ?? []), ...voices.keys()]);
  }
  return out;
}

/** `device` of §9.7; `auto` and absent map to `gpu` on the wire (§3.3). */
export const ServiceDeviceSchema = z.enum(['gpu', 'cpu', 'auto']);
export type ServiceDevice = z.infer<typeof ServiceDeviceSchema>;

export const DEFAULT_HEALTH_CHECK = Object.freeze({ endpoint: '/health', method: 'GET', timeoutMs: 2000, intervalMs: 1000 });
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
export const DEFAULT_TTS_ENDPOINT = '/tts';

export interface ServiceModel {
  modelId: string;
  modelType?: string;
  version?: string;
  /** Relative to the service directory. */
  path?: string;
}

/** A `service.json` after normalization: what the node and the hub use. */
export interface ServiceManifest {
  /** `id`, or its alias `service_id`. */
  id: string;
  /** `name`, or its alias `service_name`. */
  name: string;
  /** SemVer (checked where it is required: hub packages). */
  version?: string;
  /** Any string; only ServiceTypes (`isServiceType`) are reported on the wire (§3.3). */
  type: string;
  /** Runtime label (`python`, `node`, …); informative. */
  serviceType?: string;
  description?: string;
  device: ServiceDevice;
  /** The declared port; undefined when absent or 0: any free port (§9.8). */
  port?: number;
  /** From `exec`, or `startup_command` split on whitespace (no shell). `cwd` relative to the service directory. */
  exec: { command: string; args: string[]; cwd?: string };
  /** Values stringified. */
  env: Record<string, string>;
  healthCheck: { endpoint: string; method: string; timeoutMs: number; intervalMs: number };
  startupTimeoutMs: number;
  ttsEndpoint: '/tts' | '/synthesize';
  languages: ServiceLanguages;
  /** Whether `languages` was present (a node MAY apply defaults for well-known Lingua ids otherwise). */
  languagesDeclared: boolean;
  models: ServiceModel[];
  /** `enabled: false` = never started automatically. Default true. */
  enabled: boolean;
}

const ExecSchema = z.object({
  command: z.string().min(1),
  args: z.array(z.string()),
  cwd: opt(z.string()),
});

/** `service.json` as written (input side). Its output is the normalized `ServiceManifest`. */
export const ServiceJsonSchema = z
  .object({
    id: opt(ServiceIdSchema),
    service_id: opt(ServiceIdSchema),
    name: opt(z.string().min(1)),
    service_name: opt(z.string().min(1)),
    version: opt(z.string().min(1)),
    type: z.string().min(1),
    service_type: opt(z.string()),
    // Informative and loosely typed in the wild: kept only when it is a string.
    description: z.unknown().transform((v) => (typeof v === 'string' ? v : undefined)).optional(),
    device: opt(ServiceDeviceSchema),
    port: opt(Int.max(65_535)),
    exec: opt(ExecSchema),
    startup_command: opt(z.string()),
    env: opt(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
    health_check: opt(z.object({ endpoint: opt(z.string().min(1)), method: opt(z.string().min(1)), timeout_ms: opt(Int), interval_ms: opt(Int) })),
    startup_timeout_ms: opt(Int),
    tts_endpoint: opt(z.enum(['/tts', '/synthesize'])),
    languages: opt(ServiceLanguagesInputSchema),
    models: opt(z.array(z.object({ model_id: z.string(), model_type: opt(z.string()), version: opt(z.string()), path: opt(z.string()) }))),
    enabled: opt(z.boolean()),
  })
  .superRefine((doc, ctx) => {
    if (doc.id === undefined && doc.service_id === undefined) ctx.addIssue({ code: 'custom', path: ['id'], message: 'required (or its alias service_id)' });
    if (doc.id !== undefined && doc.service_id !== undefined && doc.id !== doc.service_id) ctx.addIssue({ code: 'custom', path: ['service_id'], message: `must equal id "${doc.id}"` });
    if (doc.name === undefined && doc.service_name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'required (or its alias service_name)' });
    if (doc.name !== undefined && doc.service_name !== undefined && doc.name !== doc.service_name) ctx.addIssue({ code: 'custom', path: ['service_name'], message: `must equal name "${doc.name}"` });
    if (doc.exec === undefined) {
      if (doc.startup_command === undefined) ctx.addIssue({ code: 'custom', path: ['exec'], message: 'required (or startup_command)' });
      else if (doc.startup_command.trim() === '') ctx.addIssue({ code: 'custom', path: ['startup_command'], message: 'must name a command' });
    }
  })
  .transform((doc): ServiceManifest => {
    // superRefine guarantees these; the fallbacks only satisfy the compiler.
    const [command = '', ...args] = doc.exec ? [doc.exec.command, ...doc.exec.args] : (doc.startup_command ?? '').trim().split(/\s+/);
    return {
      id: doc.id ?? doc.service_id ?? '',
      name: doc.name ?? doc.service_name ?? '',
      version: doc.version,
      type: doc.type,
      serviceType: doc.service_type,
      description: doc.description,
      device: doc.device ?? 'gpu',
      port: doc.port === 0 ? undefined : doc.port,
      exec: { command, args, cwd: doc.exec?.cwd },
      env: Object.fromEntries(Object.entries(doc.env ?? {}).map(([k, v]) => [k, String(v)])),
      healthCheck: {
        endpoint: doc.health_check?.endpoint ?? DEFAULT_HEALTH_CHECK.endpoint,
        method: doc.health_check?.method ?? DEFAULT_HEALTH_CHECK.method,
        timeoutMs: doc.health_check?.timeout_ms ?? DEFAULT_HEALTH_CHECK.timeoutMs,
        intervalMs: doc.health_check?.interval_ms ?? DEFAULT_HEALTH_CHECK.intervalMs,
      },
      startupTimeoutMs: doc.startup_timeout_ms ?? DEFAULT_STARTUP_TIMEOUT_MS,
      ttsEndpoint: doc.tts_endpoint ?? DEFAULT_TTS_ENDPOINT,
      languages: normalizeServiceLanguages(doc.type, doc.languages),
      languagesDeclared: doc.languages !== undefined,
      models: (doc.models ?? []).map((m) => ({ modelId: m.model_id, modelType: m.model_type, version: m.version, path: m.path })),
      enabled: doc.enabled ?? true,
    };
  });
/** A `service.json` document as written. */
export type ServiceJson = z.input<typeof ServiceJsonSchema>;

/** Parses and normalizes a `service.json` value (already JSON-decoded). Never throws. */
export function parseServiceJson(json: unknown): ParseResult<ServiceManifest> {
  return parseWith(ServiceJsonSchema, json, 'service.json');
}
