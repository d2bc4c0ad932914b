import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SegmentStore } from '../src/p2p/store.js';

test('SegmentStore evicts the oldest segments beyond its cap', () => {
  const evicted = [];
  const s = new SegmentStore(100, (swarm, seq) => evicted.push(`${swarm}:${seq}`));
  assert.ok(s.put('a', 0, new ArrayBuffer(40)));
  assert.ok(s.put('b', 0, new ArrayBuffer(40)));
  assert.ok(s.put('a', 1, new ArrayBuffer(40)));
  assert.deepEqual(evicted, ['a:0']);
  assert.equal(s.bytes, 80);
  assert.equal(s.has('a', 0), false);
  assert.ok(s.get('a', 1));
  assert.deepEqual(s.seqs('a'), [1]);
  assert.equal(s.put('a', 2, new ArrayBuffer(101)), false);
  assert.ok(s.put('a', 1, new ArrayBuffer(10)));
  assert.equal(s.bytes, 50);
  s.dropSwarm('a');
  assert.equal(s.bytes, 40);
  assert.deepEqual(s.seqs('b'), [0]);
  assert.deepEqual(evicted, ['a:0']);
});

test('SegmentStore keeps a segment as large as the cap', () => {
  const s = new SegmentStore(100);
  s.put('a', 0, new ArrayBuffer(30));
  assert.ok(s.put('a', 1, new ArrayBuffer(100)));
  assert.deepEqual(s.seqs('a'), [1]);
  assert.equal(s.bytes, 100);
});
