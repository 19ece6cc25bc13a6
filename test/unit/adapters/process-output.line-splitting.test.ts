import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../../../src/adapters/process.adapter.js';

describe('service output line splitting', () => {
  it('passes complete lines on, joins lines split across chunks, drops \\r and keeps multi-byte characters whole', () => {
    const lines: string[] = [];
    const splitter = createLineSplitter(100, (l) => lines.push(l));
    const euro = Buffer.from('€');
    splitter.push(Buffer.from('first\r\nsec'));
    splitter.push(Buffer.concat([Buffer.from('ond '), euro.subarray(0, 1)]));
    splitter.push(Buffer.concat([euro.subarray(1), Buffer.from('\n[SERVICE_READY]\nlast without newline')]));
    expect(lines).toEqual(['first', 'second €', '[SERVICE_READY]']);
    splitter.end();
    expect(lines.at(-1)).toBe('last without newline');
  });

  it('is bounded: a process that never writes a newline is cut into pieces of maxChars', () => {
    const lines: string[] = [];
    const splitter = createLineSplitter(100, (l) => lines.push(l));
    splitter.push(Buffer.from('x'.repeat(250)));
    expect(lines).toEqual(['x'.repeat(100), 'x'.repeat(100)]);
    splitter.push(Buffer.from('y\n'));
    expect(lines.at(-1)).toBe(`${'x'.repeat(50)}y`);
  });
});
