import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RANGES, isSeq, limitRanges, parseRanges, rangesHas, toRanges } from '../src/p2p/ranges.js';

test('toRanges merges and sorts', () => {
  const cases = [
    { in: [], want: [] },
    { in: [3], want: [[3, 3]] },
    { in: [5, 1, 2, 3, 8, 3, 0], want: [[0, 3], [5, 5], [8, 8]] },
    { in: [9, 10, 11, 7], want: [[7, 7], [9, 11]] },
    { in: [-1, 1.5, NaN, 2 ** 53, 4], want: [[4, 4]] },
  ];
  for (const c of cases) assert.deepEqual(toRanges(c.in), c.want, JSON.stringify(c.in));
});

test('parseRanges validates and merges', () => {
  const cases = [
    { in: [[0, 5], [8, 8]], want: [[0, 5], [8, 8]] },
    { in: [[8, 9], [0, 2], [3, 4]], want: [[0, 4], [8, 9]] },
    { in: [[0, 10], [2, 3]], want: [[0, 10]] },
    { in: [], want: [] },
    { in: [[5, 4]], want: null },
    { in: [[0]], want: null },
    { in: [[0, 1, 2]], want: null },
    { in: [[-1, 2]], want: null },
    { in: [['0', 2]], want: null },
    { in: [[0, 2 ** 53]], want: null },
    { in: {}, want: null },
    { in: 'x', want: null },
    { in: null, want: null },
  ];
  for (const c of cases) assert.deepEqual(parseRanges(c.in), c.want, JSON.stringify(c.in));
  const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => [2 * i, 2 * i]);
  assert.equal(parseRanges(many), null);
  assert.equal(parseRanges(many.slice(1)).length, MAX_RANGES);
});

test('rangesHas is a correct membership test', () => {
  const seqs = [0, 1, 2, 7, 9, 10, 11, 40];
  const r = toRanges(seqs);
  for (let s = 0; s < 50; s++) assert.equal(rangesHas(r, s), seqs.includes(s), `seq ${s}`);
  assert.equal(rangesHas([], 0), false);
});

test('limitRanges keeps the highest ranges', () => {
  const r = [[0, 0], [2, 2], [4, 4]];
  assert.deepEqual(limitRanges(r, 2), [[2, 2], [4, 4]]);
  assert.equal(limitRanges(r, 5), r);
});

test('isSeq', () => {
  assert.ok(isSeq(0) && isSeq(2 ** 53 - 1));
  assert.ok(!isSeq(-1) && !isSeq(1.5) && !isSeq(2 ** 53) && !isSeq('1'));
});
