/**
 * Every ```json example of PROTOCOL.md parses with the schema its section and direction name, with
 * nothing dropped, and (for wire messages and hub bodies) encodes back to the same JSON.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  ClientToSchedulerMessageSchema,
  NodeToSchedulerMessageSchema,
  SchedulerToClientMessageSchema,
  SchedulerToNodeMessageSchema,
  ServiceListResponseSchema,
  encodeFrame,
  parseServiceJson,
  parseWith,
  toWire,
} from '../../../src/protocol/index.js';
import { existsSync, readFileSync } from 'node:fs';
import { jsonExamples, readProtocolDoc, sharedProtocolDocCandidates, VENDORED_PROTOCOL_DOC, type JsonExample } from '../../support/protocol-doc.js';

type Kind = 'message' | 'document';

/** The schema an example is written for: its section (§2 node link, §6 session link, §10 hub) and the direction in its heading. */
function schemaFor(example: JsonExample): { schema: z.ZodType; kind: Kind } | undefined {
  const { section, heading } = example;
  if (section.startsWith('2.')) {
    if (heading.includes('(N→S)')) return { schema: NodeToSchedulerMessageSchema, kind: 'message' };
    if (heading.includes('(S→N)')) return { schema: SchedulerToNodeMessageSchema, kind: 'message' };
  }
  if (section.startsWith('6.')) {
    if (heading.includes('(C→S)')) return { schema: ClientToSchedulerMessageSchema, kind: 'message' };
    if (heading.includes('(S→C)')) return { schema: SchedulerToClientMessageSchema, kind: 'message' };
  }
  if (section === '10.2') return { schema: ServiceListResponseSchema, kind: 'document' };
  return undefined;
}

const doc = readProtocolDoc();
const examples = jsonExamples(doc);
const wireExamples = examples.filter((e) => e.section !== '9.7');

describe('PROTOCOL.md json examples', () => {
  it('finds the examples of the wire, service.json and hub sections', () => {
    expect(examples.length).toBeGreaterThanOrEqual(18);
    expect(examples.filter((e) => e.section === '9.7')).toHaveLength(1);
  });

  it.each(wireExamples.map((e) => [`line ${e.line} (${e.heading.replace(/^#+ /, '')})`, e] as const))('%s parses and encodes back to the same JSON', (_name, example) => {
    const target = schemaFor(example);
    expect(target, `no schema known for the example under "${example.heading}"`).toBeDefined();
    if (target === undefined) return;
    const result = parseWith(target.schema, example.value);
    if (!result.ok) throw result.error;
    expect(result.dropped).toEqual([]);
    const encoded: unknown = target.kind === 'message' ? JSON.parse(encodeFrame(result.value as { type: string })) : toWire(result.value);
    expect(encoded).toEqual(example.value);
  });

  it('the service.json example of §9.7 parses into a normalized manifest', () => {
    const example = examples.find((e) => e.section === '9.7');
    const result = parseServiceJson(example?.value);
    if (!result.ok) throw result.error;
    expect(result.value).toMatchObject({
      id: 'tts-es',
      name: 'eSpeak NG TTS (es)',
      version: '1.2.0',
      type: 'tts',
      serviceType: 'node',
      device: 'cpu',
      port: 5009,
      exec: { command: 'node', args: ['server.js'] },
      env: { LOG_LEVEL: 'info' },
      healthCheck: { endpoint: '/health', method: 'GET', timeoutMs: 2000, intervalMs: 1000 },
      startupTimeoutMs: 30_000,
      ttsEndpoint: '/tts',
      languages: { asr: [], tts: ['es'], voices: { es: ['es'] }, nmtPairs: [], semantic: [] },
      languagesDeclared: true,
      models: [],
      enabled: true,
    });
  });
});

describe('the repository copy of PROTOCOL.md', () => {
  it('equals the shared design folder copy whenever that folder is beside the repository', () => {
    const vendored = readFileSync(VENDORED_PROTOCOL_DOC, 'utf8');
    for (const shared of sharedProtocolDocCandidates().filter((p) => existsSync(p))) {
      expect(vendored === readFileSync(shared, 'utf8'), `docs/PROTOCOL.md differs from ${shared}: copy it again`).toBe(true);
    }
  });
});
