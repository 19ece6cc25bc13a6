/**
 * A role's logger and inspection stream, from the observability keys of its configuration
 * (`logLevel`, `logFormat`, `inspect`, `record`): the Stately inspector over its WebSocket
 * endpoint, and a JSON-lines recording of the same stream.
 */
import { createJsonlRecorder, createStatelyInspector } from '../adapters/inspection.adapter.js';
import type { Logger } from '../kernel/logger.js';
import { createLogger, silentLogger } from '../kernel/logger.js';
import type { InspectionObserver } from '../kernel/system.js';
import type { NodeRoleConfig } from './role-config.schema.js';

type ObservabilityKeys = Pick<NodeRoleConfig, 'logLevel' | 'logFormat' | 'inspect' | 'record'>;

/** Where a role's inspection stream goes. */
export interface InspectorInfo {
  /** The Stately inspector endpoint the actors are streamed to. */
  url?: string;
  /** The file the stream is appended to as JSON lines. */
  record?: string;
}

export interface Inspection {
  inspectors: InspectionObserver[];
  /** `undefined` when nothing is inspected. */
  info: InspectorInfo | undefined;
  /** Closes the inspector socket and flushes the recording. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_INSPECTOR_URL = 'ws://localhost:8080';

export function openInspection(keys: ObservabilityKeys): Inspection {
  const url = keys.inspect === true ? DEFAULT_INSPECTOR_URL : typeof keys.inspect === 'string' ? keys.inspect : undefined;
  const stately = url === undefined ? undefined : createStatelyInspector(url);
  const recorder = keys.record === undefined ? undefined : createJsonlRecorder(keys.record);
  const inspectors = [stately?.observer, recorder?.observer].filter((o): o is InspectionObserver => o !== undefined);
  let closing: Promise<void> | undefined;
  return {
    inspectors,
    info: inspectors.length === 0 ? undefined : { ...(url !== undefined ? { url } : {}), ...(keys.record !== undefined ? { record: keys.record } : {}) },
    close: () => {
      closing ??= (async () => {
        stately?.stop();
        await recorder?.close();
      })();
      return closing;
    },
  };
}

/**
 * The logger of an embedded role: the host's (pino-compatible) when given; else, when the options
 * name a `logLevel`, linguamesh's own pino logger on stdout (JSON, or pretty on a TTY); else silent.
 */
export function embeddedLogger(host: Logger | undefined, keys: ObservabilityKeys): Logger {
  if (host) return host;
  if (keys.logLevel === undefined) return silentLogger();
  return createLogger({ level: keys.logLevel, format: keys.logFormat ?? 'auto' });
}
