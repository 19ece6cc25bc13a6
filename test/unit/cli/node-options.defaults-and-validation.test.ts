import { describe, expect, it } from 'vitest';
import { DEFAULT_NODE_OPTIONS, nodeLinkUrl, PACKAGE_VERSION, resolveNodeSettings } from '../../../src/cli/node-options.js';
import { schedulerAddresses } from '../../../src/cli/node.command.js';

describe('node options', () => {
  it('defaults follow PROTOCOL.md §0.5 and the version is the package version', () => {
    const settings = resolveNodeSettings({ schedulerUrl: 'ws://127.0.0.1:5010' });
    expect(settings).toMatchObject({
      schedulerUrls: ['ws://127.0.0.1:5010/ws/node'],
      httpHost: '127.0.0.1',
      httpPort: 5020,
      maxConcurrentJobs: 4,
      allowCpuServices: false,
      heartbeatIntervalMs: 15_000,
      heartbeatDebounceMs: 2_000,
      wsPingIntervalMs: 15_000,
      linkDeadMs: 30_000,
      reconnectMinMs: 5_000,
      reconnectMaxMs: 60_000,
      maxFrameBytes: 8 * 1024 * 1024,
      version: PACKAGE_VERSION,
    });
    expect(settings).not.toHaveProperty('authToken');
    expect(DEFAULT_NODE_OPTIONS.dataDir).toMatch(/\.linguamesh/);
  });

  it('the scheduler address becomes the node link URL', () => {
    expect(nodeLinkUrl('ws://sched.local:5010')).toBe('ws://sched.local:5010/ws/node');
    expect(nodeLinkUrl('https://sched.example/')).toBe('wss://sched.example/ws/node');
    expect(nodeLinkUrl('ws://10.0.0.2:7000/custom/path')).toBe('ws://10.0.0.2:7000/custom/path');
    expect(() => nodeLinkUrl('ftp://x')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => nodeLinkUrl('not a url')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('invalid values fail at start-up naming the field; undefined values keep the default', () => {
    const bad = (extra: object) => () => resolveNodeSettings({ schedulerUrl: 'ws://h:1', ...extra });
    expect(bad({ httpPort: 70_000 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('httpPort') }));
    expect(bad({ maxConcurrentJobs: 0 })).toThrow(expect.objectContaining({ message: expect.stringContaining('maxConcurrentJobs') }));
    expect(bad({ reconnectMinMs: 10_000, reconnectMaxMs: 5_000 })).toThrow(expect.objectContaining({ message: expect.stringContaining('reconnectMaxMs') }));
    expect(bad({ wsPingIntervalMs: 30_000, linkDeadMs: 30_000 })).toThrow(expect.objectContaining({ message: expect.stringContaining('linkDeadMs') }));
    expect(resolveNodeSettings({ schedulerUrl: 'ws://h:1', httpPort: undefined, httpHost: undefined }).httpPort).toBe(5020);
    expect(resolveNodeSettings({ schedulerUrl: 'ws://h:1', httpPort: 0 }).httpPort).toBe(0);
  });

  it('several schedulers: normalized, in the given order, duplicates removed; an empty list is refused', () => {
    expect(resolveNodeSettings({ schedulerUrl: ['ws://b:1', 'http://a:2', 'ws://b:1/ws/node', 'ws://a:2'] }).schedulerUrls).toEqual(['ws://b:1/ws/node', 'ws://a:2/ws/node']);
    expect(() => resolveNodeSettings({ schedulerUrl: [] })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('schedulerUrl') }));
    expect(() => resolveNodeSettings({ schedulerUrl: ['ws://a:1', 'ftp://b'] })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('ftp://b') }));
  });

  it('--scheduler is repeatable and takes comma-separated lists; LINGUAMESH_SCHEDULER is read only without the flag', () => {
    expect(schedulerAddresses(['ws://a:1', 'ws://b:1, ws://c:1,'], 'ws://env:1')).toEqual(['ws://a:1', 'ws://b:1', 'ws://c:1']);
    expect(schedulerAddresses(undefined, 'ws://a:1,ws://b:1')).toEqual(['ws://a:1', 'ws://b:1']);
    expect(schedulerAddresses([], undefined)).toEqual([]);
  });
});
