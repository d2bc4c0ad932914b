import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashTable, MAX_LIST_SEGMENTS, parseHashList } from '../src/p2p/hashes.js';

const h = 'ab'.repeat(32);

test('parseHashList', () => {
  const doc = (o) => JSON.stringify({ v: 1, swarm: 'vod/demo/720p', segments: [{ seq: 0, sha256: h, size: 10 }], ...o });
  const cases = [
    { name: 'good', text: doc({}), want: [{ seq: 0, sha256: h, size: 10 }] },
    { name: 'empty', text: doc({ segments: [] }), want: [] },
    { name: 'other swarm', text: doc({ swarm: 'vod/demo/360p' }), want: null },
    { name: 'version 2', text: doc({ v: 2 }), want: null },
    { name: 'bad hash', text: doc({ segments: [{ seq: 0, sha256: 'AB'.repeat(32), size: 10 }] }), want: null },
    { name: 'bad size', text: doc({ segments: [{ seq: 0, sha256: h, size: -1 }] }), want: null },
    { name: 'bad seq', text: doc({ segments: [{ seq: 'x', sha256: h, size: 1 }] }), want: null },
    { name: 'null entry', text: doc({ segments: [null] }), want: null },
    { name: 'not json', text: '{', want: null },
    { name: 'array', text: '[]', want: null },
  ];
  for (const c of cases) assert.deepEqual(parseHashList(c.text, 'vod/demo/720p'), c.want, c.name);
  const many = Array.from({ length: MAX_LIST_SEGMENTS + 1 }, (_, i) => ({ seq: i, sha256: h, size: 1 }));
  assert.equal(parseHashList(doc({ segments: many }), 'vod/demo/720p'), null);
});

test('HashTable keeps only valid edge hashes', () => {
  const t = new HashTable();
  assert.ok(t.note(3, h, 100));
  assert.ok(!t.note(4, '', 0));
  assert.ok(!t.note(4, h, 0));
  assert.ok(!t.note(-1, h, 10));
  assert.deepEqual(t.get(3), { sha256: h, size: 100 });
  assert.equal(t.get(4), null);
});
