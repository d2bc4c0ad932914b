import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashesURL, segmentSeq, segmentURL, swarmFromURL, trackerURL } from '../src/p2p/swarm.js';

test('swarmFromURL derives the content swarm id', () => {
  const cases = [
    ['/v/demo/720p/media.m3u8', 'vod/demo/720p'],
    ['http://edge1.example.edu/v/demo/720p/seg-3.m4s?x=1', 'vod/demo/720p'],
    ['https://edge2.example.edu:8443/v/demo/720p/seg-3.m4s#f', 'vod/demo/720p'],
    ['/t/abc.def_123/v/demo/audio/init.mp4', 'vod/demo/audio'],
    ['/live/lecture-7/360p/seg-1001.m4s', 'live/lecture-7/360p'],
    ['/v/a~b.c-d_e/r/hashes.json', 'vod/a~b.c-d_e/r'],
    ['/v/demo/master.m3u8', ''],
    ['/v/demo/720p/x/seg-1.m4s', ''],
    ['/v/./720p/seg-1.m4s', ''],
    ['/v/%2e%2e/720p/seg-1.m4s', ''],
    ['/v/de mo/720p/seg-1.m4s', ''],
    ['/t//v/demo/720p/seg-1.m4s', ''],
    ['/watch/demo', ''],
    ['/v/demo/720p/', ''],
    [`/v/${'a'.repeat(129)}/720p/seg-1.m4s`, ''],
    [`/v/${'a'.repeat(128)}/${'b'.repeat(128)}/seg-1.m4s`, `vod/${'a'.repeat(128)}/${'b'.repeat(128)}`],
  ];
  for (const [url, want] of cases) assert.equal(swarmFromURL(url), want, url);
  assert.equal(swarmFromURL('seg-2.m4s', 'http://h/v/demo/720p/media.m3u8'), 'vod/demo/720p');
  assert.equal(swarmFromURL('http://[bad'), '');
});

test('segmentSeq reads N of seg-N.m4s only', () => {
  const cases = [
    ['/v/demo/720p/seg-0.m4s', 0],
    ['/v/demo/720p/seg-12.m4s?token=x', 12],
    ['/live/s/r/seg-9007199254740991.m4s', 9007199254740991],
    ['/live/s/r/seg-9007199254740992.m4s', -1],
    ['/v/demo/720p/seg-01.m4s', -1],
    ['/v/demo/720p/seg--1.m4s', -1],
    ['/v/demo/720p/init.mp4', -1],
    ['/v/demo/720p/seg-1.mp4', -1],
    ['/v/demo/720p/media.m3u8', -1],
  ];
  for (const [url, want] of cases) assert.equal(segmentSeq(url), want, url);
});

test('sibling URLs keep the prefix and query', () => {
  assert.equal(hashesURL('http://h/t/tok/v/a/r/seg-3.m4s?sig=1'), 'http://h/t/tok/v/a/r/hashes.json?sig=1');
  assert.equal(segmentURL('http://h/live/s/r/seg-3.m4s', 4), 'http://h/live/s/r/seg-4.m4s');
  assert.equal(hashesURL('/v/a/r/media.m3u8', 'https://e/watch/a'), 'https://e/v/a/r/hashes.json');
});

test('trackerURL follows the page scheme', () => {
  assert.equal(trackerURL({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/p2p/ws');
  assert.equal(trackerURL({ protocol: 'https:', host: 'edge.example.edu' }), 'wss://edge.example.edu/p2p/ws');
});

test('signed links: live swarm ids and the token form of the tracker URL', () => {
  assert.equal(swarmFromURL('/t/AbC_-9/live/class1/video/part-3.1.m4s'), 'live/class1/video');
  assert.equal(swarmFromURL('/t//live/class1/video/seg-3.m4s'), '');
  assert.equal(trackerURL({ protocol: 'https:', host: 'edge.example.edu' }, 'AbC_-9'), 'wss://edge.example.edu/t/AbC_-9/p2p/ws');
  assert.equal(trackerURL({ protocol: 'http:', host: 'h' }, ''), 'ws://h/p2p/ws');
});
