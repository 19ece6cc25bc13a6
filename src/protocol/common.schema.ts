/**
 * Shared enums and value types of PROTOCOL.md §1.7 and §2.1.
 */
import { z } from 'zod';

export const SERVICE_TYPES = ['asr', 'nmt', 'tts', 'tone', 'semantic', 'phonetic', 'punctuation'] as const;
export const ServiceTypeSchema = z.enum(SERVICE_TYPES);
export type ServiceType = z.infer<typeof ServiceTypeSchema>;

export const DeviceTypeSchema = z.enum(['gpu', 'cpu']);
export type DeviceType = z.infer<typeof DeviceTypeSchema>;

export const ServiceStatusSchema = z.enum(['running', 'stopped', 'error']);
export type ServiceStatus = z.infer<typeof ServiceStatusSchema>;

export const ModelKindSchema = z.enum(['asr', 'nmt', 'tts', 'vad', 'emotion', 'other']);
export type ModelKind = z.infer<typeof ModelKindSchema>;

export const NODE_STATUSES = ['registering', 'ready', 'degraded', 'draining', 'offline'] as const;
export const NodeStatusSchema = z.enum(NODE_STATUSES);
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

export const UiEventTypeSchema = z.enum(['INPUT_STARTED', 'INPUT_ENDED', 'ASR_PARTIAL', 'ASR_FINAL', 'DISPATCHED', 'NODE_ACCEPTED', 'NMT_DONE', 'TTS_PLAY_STARTED', 'TTS_PLAY_ENDED', 'ERROR']);
export type UiEventType = z.infer<typeof UiEventTypeSchema>;

export const UiEventStatusSchema = z.enum(['ok', 'error']);
export type UiEventStatus = z.infer<typeof UiEventStatusSchema>;
