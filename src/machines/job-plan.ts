/**
 * What a job needs, read from its `job_assign` (PROTOCOL.md §2.7, §5.2, §8.4, §9.4): the stages it
 * runs, the languages each stage's service must support, the output format and the TTS voice.
 * Pure: shared by the job machine and the node's acceptance checks (§8.2 check 5).
 */
import { parseAudioFormat } from '../kernel/ports/audio.port.js';
import type { AudioFormat } from '../kernel/ports/audio.port.js';
import { AUTO_LANGUAGE, normalizeLanguage, normalizeLanguageSet } from '../protocol/language.js';
import type { JobAssign } from '../protocol/node-jobs.schema.js';
import { DEFAULT_TTS_VOICES } from '../protocol/service-api.schema.js';

/** The stages of a job that call a local service, in pipeline order. */
export type StageName = 'asr' | 'nmt' | 'tts';

/** What a stage's service must support (PROTOCOL.md §8.4: its type and the job's languages). */
export type ServiceNeed =
  /** `lang` may be `auto` (two-way sessions): any ASR service that knows one of `anyOf` (any at all when empty). */
  | { stage: 'asr'; lang: string; anyOf: readonly string[] }
  | { stage: 'nmt'; src: string; tgt: string }
  | { stage: 'tts'; lang: string };

export interface JobPlan {
  /** Normalized `src_lang`; `auto` in two-way sessions until ASR detects the language. */
  src: string;
  /** Normalized `tgt_lang`. */
  tgt: string;
  useAsr: boolean;
  useNmt: boolean;
  useTts: boolean;
  /** `job_assign.audio_format`, undefined when it names no format this node decodes (§7). */
  audioFormat: AudioFormat | undefined;
  /** `job_assign.tts_format`; absent or unknown = `opus` (§7.5). */
  ttsFormat: AudioFormat;
  /** Two-way languages (`lang_a`, `lang_b`, `auto_langs`), normalized. */
  twoWayLanguages: string[];
}

export function planJob(job: JobAssign): JobPlan {
  return {
    src: normalizeLanguage(job.src_lang),
    tgt: normalizeLanguage(job.tgt_lang),
    useAsr: job.pipeline.use_asr,
    useNmt: job.pipeline.use_nmt,
    useTts: job.pipeline.use_tts,
    audioFormat: parseAudioFormat(job.audio_format),
    ttsFormat: parseAudioFormat(job.tts_format ?? undefined) ?? 'opus',
    twoWayLanguages: normalizeLanguageSet([job.lang_a ?? '', job.lang_b ?? '', ...(job.auto_langs ?? [])]),
  };
}

/** Whether the job translates from `src` to `tgt` (src = tgt skips NMT, §5.2 rule 3). */
export function wantsTranslation(plan: JobPlan, src: string, tgt: string): boolean {
  return plan.useAsr && plan.useNmt && src !== tgt;
}

/**
 * The languages after ASR: `src` is the detected language when the job said `auto`; in a two-way
 * session whose detected language is one of its pair, the target is the other one.
 */
export function languagesAfterAsr(plan: JobPlan, detected: string | undefined): { src: string; tgt: string } {
  if (plan.src !== AUTO_LANGUAGE) return { src: plan.src, tgt: plan.tgt };
  const src = detected ? normalizeLanguage(detected) : (plan.twoWayLanguages[0] ?? plan.tgt);
  const [a, b] = plan.twoWayLanguages;
  if (plan.twoWayLanguages.length === 2 && a !== undefined && b !== undefined && (src === a || src === b)) return { src, tgt: src === a ? b : a };
  return { src, tgt: plan.tgt };
}

/** The service a stage needs for these languages. */
export function needOf(stage: StageName, plan: JobPlan, src: string, tgt: string): ServiceNeed {
  switch (stage) {
    case 'asr':
      return { stage, lang: src, anyOf: src === AUTO_LANGUAGE ? plan.twoWayLanguages : [] };
    case 'nmt':
      return { stage, src, tgt };
    case 'tts':
      // §5.2 rule 4: speech is always in the target language.
      return { stage, lang: tgt };
    default: {
      const never: never = stage;
      return never;
    }
  }
}

/**
 * The services a job needs, known when it is assigned (§8.2 check 5). A two-way job's NMT pair is
 * known only after ASR, so it is checked then.
 */
export function needsAtAssign(plan: JobPlan): ServiceNeed[] {
  if (!plan.useAsr) return [];
  const needs: ServiceNeed[] = [needOf('asr', plan, plan.src, plan.tgt)];
  if (plan.src !== AUTO_LANGUAGE && wantsTranslation(plan, plan.src, plan.tgt)) needs.push(needOf('nmt', plan, plan.src, plan.tgt));
  if (plan.useTts) needs.push(needOf('tts', plan, plan.src, plan.tgt));
  return needs;
}

/** §9.4: the service's first voice for the language, else the built-in default, else the language code. */
export function voiceFor(lang: string, declaredVoices: readonly string[]): string {
  return declaredVoices[0] ?? DEFAULT_TTS_VOICES[lang] ?? lang;
}
