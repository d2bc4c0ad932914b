import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessMessage, liveURL, masterURL, watchPath } from '../src/lib/api.js';

test('watchPath reads plain and signed player pages', () => {
  assert.deepEqual(watchPath('/watch/demo'), { id: 'demo', token: '' });
  assert.deepEqual(watchPath('/t/AbC_-9/watch/demo/'), { id: 'demo', token: 'AbC_-9' });
  assert.deepEqual(watchPath('/t/a.b/watch/demo'), { id: '', token: '' });
  assert.deepEqual(watchPath('/t/abc/watch/a/b'), { id: '', token: '' });
  assert.deepEqual(watchPath('/other'), { id: '', token: '' });
});

test('signed playlist URLs keep the token in the path', () => {
  assert.equal(masterURL('demo'), '/v/demo/master.m3u8');
  assert.equal(masterURL('demo', 'tok'), '/t/tok/v/demo/master.m3u8');
  assert.equal(liveURL('class1', 'tok'), '/t/tok/live/class1/master.m3u8');
});

test('every refusal reason gets a sentence for learners', () => {
  assert.match(accessMessage('token_required'), /needs a link from your course/);
  assert.match(accessMessage('expired'), /expired/);
  for (const r of ['bad_signature', 'out_of_scope', 'malformed', 'unknown_kid', 'forbidden']) {
    assert.match(accessMessage(r), /not valid/);
  }
});
