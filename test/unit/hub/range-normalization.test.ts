import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { normalizeRangeRequest } from '../../../src/adapters/hub-files.adapter.js';

const ETAG = `"${'c'.repeat(64)}"`;

function normalized(headers: IncomingHttpHeaders, size = 1000, etag: string | null = ETAG): IncomingHttpHeaders {
  const copy = { ...headers };
  normalizeRangeRequest(copy, size, etag ?? undefined);
  return copy;
}

describe('Range normalization before send (§10.4)', () => {
  it('leaves one bytes range alone and drops If-Range once it matched exactly', () => {
    expect(normalized({ range: 'bytes=0-99' })).toEqual({ range: 'bytes=0-99' });
    expect(normalized({ range: 'bytes=500-', 'if-range': ETAG })).toEqual({ range: 'bytes=500-' });
  });

  it('ignores the Range on several ranges, another unit, or an If-Range that is not our strong ETag', () => {
    expect(normalized({ range: 'bytes=0-10,11-20' })).toEqual({});
    expect(normalized({ range: 'items=0-10' })).toEqual({});
    expect(normalized({ range: 'bytes=0-10', 'if-range': `W/${ETAG}` })).toEqual({});
    expect(normalized({ range: 'bytes=0-10', 'if-range': `"${'d'.repeat(64)}"` })).toEqual({});
    expect(normalized({ range: 'bytes=0-10', 'if-range': 'Wed, 21 Oct 2015 07:28:00 GMT' })).toEqual({});
    expect(normalized({ range: 'bytes=0-10', 'if-range': ETAG }, 1000, null)).toEqual({});
  });

  it('turns a suffix longer than the file into the whole file; keeps bytes=-0 for the 416', () => {
    expect(normalized({ range: 'bytes=-5000' })).toEqual({ range: 'bytes=0-' });
    expect(normalized({ range: 'bytes=-1000' })).toEqual({ range: 'bytes=0-' });
    expect(normalized({ range: 'bytes=-10' })).toEqual({ range: 'bytes=-10' });
    expect(normalized({ range: 'bytes=-0' })).toEqual({ range: 'bytes=-0' });
  });
});
