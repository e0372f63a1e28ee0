import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containsActiveContent } from '../src/sniff.js';

/** The regex the byte scanner replaced: both must agree on every input. */
const REGEX = /<script|<html|<body|<svg[\s/>]|<iframe|<object|<embed|<\?php|<!doctype|javascript:|%PDF-/i;
const MARKERS = [
  '<script',
  '<html',
  '<body',
  '<svg ',
  '<svg/',
  '<svg>',
  '<svg\t',
  '<svg\u00a0',
  '<iframe',
  '<object',
  '<embed',
  '<?php',
  '<!doctype',
  'javascript:',
  '%PDF-',
];

function noise(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

const mixCase = (text: string, seed: number) => [...text].map((c, i) => ((seed >> i) & 1 ? c.toUpperCase() : c.toLowerCase())).join('');

describe('active content scan', () => {
  it('agrees with the regex on every marker, in mixed case, at the start, middle and end', () => {
    for (const [m, marker] of MARKERS.entries()) {
      for (const seed of [0, 1, 0b1010101, 0xffff]) {
        for (const at of ['start', 'middle', 'end'] as const) {
          const text = Buffer.from(mixCase(marker, seed + m), 'latin1');
          const body = noise(4096, seed + m).map((byte) => (byte === 0x3c || byte === 0x25 || (byte | 0x20) === 0x6a ? 0x41 : byte));
          const buf =
            at === 'start'
              ? Buffer.concat([text, body])
              : at === 'end'
                ? Buffer.concat([body, text])
                : Buffer.concat([body.subarray(0, 2000), text, body.subarray(2000)]);
          assert.equal(containsActiveContent(buf), true, `${JSON.stringify(marker)} at ${at}`);
          assert.equal(REGEX.test(buf.toString('latin1')), true);
        }
      }
    }
  });

  it('does not count near misses: <svg followed by a letter, a marker cut off at the end, non-ASCII look-alikes', () => {
    for (const text of ['<svgx', '<scrip', 'javascript', '%PDF', '<svg', '<\u017fcript', 'java\u017fcript:']) {
      const buf = Buffer.from(`abc${text}`, 'latin1');
      assert.equal(REGEX.test(buf.toString('latin1')), false, text);
      assert.equal(containsActiveContent(buf), false, text);
    }
  });

  it('agrees with the regex on 200 random buffers (64–84 KB)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const buf = noise(64 * 1024 + seed * 97, seed);
      assert.equal(containsActiveContent(buf), REGEX.test(buf.toString('latin1')), `seed ${seed}`);
    }
  });
});
