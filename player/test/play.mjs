#!/usr/bin/env node
// Browser test driver: plays a classmesh player page in Debian's headless
// Chromium and checks that hls.js plays without errors.
//
//   node test/play.mjs --url 'http://127.0.0.1:8080/watch/demo?autoplay=1&muted=1' \
//     --seconds 10 --screenshot out.png [--embed]
//
// With --embed the page is put in an <iframe> on a page of another origin (a
// throwaway local server on a different port), as a learning platform would.
// Prints one JSON line and exits 0 when at least --seconds of media played
// and window.classmesh.errors stayed empty (a non-fatal stall with a second
// or more buffered, a slow media element, is counted as slowMedia but
// allowed), 1 otherwise.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WEBRTC_LOOPBACK, launch } from './chromium.mjs';

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      screenshot: { type: 'string' },
      embed: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      // Non-fatal hls.js events (a stall while a live publisher
      // reconnects) do not fail the run; fatal ones still do.
      'allow-nonfatal': { type: 'boolean', default: false },
      // Loopback ICE candidates (no mDNS hiding), for peers on this host.
      'webrtc-loopback': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  if (!values.url || !(seconds > 0)) {
    console.error('usage: node test/play.mjs --url URL [--seconds N] [--screenshot out.png] [--embed] [--timeout S]');
    process.exit(2);
  }
  const timeout = values.timeout ? Number(values.timeout) : seconds * 3 + 30;
  return { url: values.url, seconds, screenshot: values.screenshot, embed: values.embed, timeout, allowNonfatal: values['allow-nonfatal'], webrtcLoopback: values['webrtc-loopback'] };
}

// embedServer serves a page holding an iframe to url, on its own port (and
// so another origin than the player).
async function embedServer(url) {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LMS embed test</title>
<style>body{font-family:sans-serif;margin:16px;background:#eef}iframe{border:1px solid #99a;width:960px;height:640px}</style></head>
<body><h1>Course site on another origin</h1>
<iframe id="player" src="${url.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>
</body></html>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

// snapshot reads the player state inside the (possibly framed) page.
function snapshot(frame) {
  return frame.evaluate(() => {
    const cm = window.classmesh;
    const v = document.querySelector('video');
    const s = cm && typeof cm.stats === 'function' ? cm.stats() : null;
    return {
      hook: Boolean(cm),
      currentTime: v ? v.currentTime : 0,
      ended: v ? v.ended : false,
      paused: v ? v.paused : true,
      errors: cm ? cm.errors.slice() : [],
      stats: s,
      p2p: window.classmeshStats ? JSON.parse(JSON.stringify(window.classmeshStats)) : null,
      message: (document.getElementById('message') || {}).textContent || '',
    };
  });
}

async function playerFrame(page, opts) {
  if (!opts.embed) {
    await page.goto(opts.url, { waitUntil: 'load' });
    return page.mainFrame();
  }
  const host = await embedServer(opts.url);
  opts.hostServer = host.server;
  opts.host = host.url;
  if (new URL(host.url).origin === new URL(opts.url).origin) throw new Error('embedding page is not cross-origin');
  await page.goto(host.url, { waitUntil: 'load' });
  const handle = await page.waitForSelector('iframe#player');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('no frame for the iframe');
  await frame.waitForLoadState('load');
  return frame;
}

// waitForPlayback polls until seconds of media time have played, playback
// ends or fails, or the wall-clock deadline passes.
async function waitForPlayback(frame, opts) {
  const deadline = Date.now() + opts.timeout * 1000;
  let start = null;
  let last = null;
  while (Date.now() < deadline) {
    last = await snapshot(frame);
    if (start === null && last.hook) start = last.currentTime;
    const played = start === null ? 0 : last.currentTime - start;
    if (played >= opts.seconds) return { last, played, reason: '' };
    if (last.errors.some((e) => e.fatal)) return { last, played, reason: 'fatal player error' };
    if (last.ended) return { last, played, reason: `playback ended after ${played.toFixed(1)} s` };
    await new Promise((r) => setTimeout(r, 500));
  }
  const played = start === null || !last ? 0 : last.currentTime - start;
  return { last, played, reason: `timed out after ${opts.timeout} s with ${played.toFixed(1)} s played` };
}

function isSlowMedia(e) {
  return !e.fatal && e.details === 'bufferStalledError' && typeof e.buffer === 'number' && e.buffer >= 1;
}

function report(opts, result, pageErrors, httpErrors) {
  const s = (result.last && result.last.stats) || {};
  const errors = result.last ? result.last.errors : [];
  let reason = result.reason;
  // A non-fatal stall reported while at least a second was buffered ahead
  // of the playhead is the media element being slow to start or advance
  // (a starved CPU in CI), not a delivery failure: it is reported
  // (slowMedia) but does not fail the run. A stall on an empty buffer does.
  const slowMedia = errors.filter(isSlowMedia);
  const counted = (opts.allowNonfatal ? errors.filter((e) => e.fatal) : errors).filter((e) => !isSlowMedia(e));
  if (!reason && counted.length) reason = `${counted.length} hls.js error event(s)`;
  if (!reason && pageErrors.length) reason = 'uncaught page errors';
  const failed = opts.allowNonfatal ? httpErrors.filter((e) => !e.startsWith('503 ')) : httpErrors;
  if (!reason && failed.length) reason = 'failed HTTP requests';
  return {
    ok: !reason,
    reason,
    url: opts.url,
    embed: opts.embed,
    host: opts.host || null,
    played: Number(result.played.toFixed(2)),
    p2p: result.last ? result.last.p2p : null,
    currentTime: result.last ? result.last.currentTime : 0,
    duration: s.duration ?? null,
    engine: s.engine || null,
    errors,
    slowMedia: slowMedia.length,
    pageErrors,
    httpErrors,
    levels: s.levels || [],
    level: s.level ?? null,
    autoLevel: s.autoLevel ?? null,
    height: s.height ?? null,
    bitrate: s.bitrate ?? null,
    bandwidthEstimate: s.bandwidthEstimate ?? null,
    bufferAhead: s.bufferAhead ?? null,
    buffered: s.buffered || [],
    droppedFrames: s.droppedFrames ?? null,
    message: result.last ? result.last.message : '',
    screenshot: opts.screenshot || null,
  };
}

async function main() {
  const opts = options();
  const profile = await mkdtemp(path.join(os.tmpdir(), 'classmesh-chromium-'));
  let context;
  let out;
  try {
    context = await launch(profile, opts.webrtcLoopback ? [WEBRTC_LOOPBACK] : []);
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    const httpErrors = [];
    page.on('pageerror', (err) => pageErrors.push(String(err && err.message ? err.message : err)));
    page.on('response', (res) => {
      if (res.status() >= 400) httpErrors.push(`${res.status()} ${res.url()}`);
    });
    page.on('requestfailed', (req) => {
      const failure = req.failure();
      // Aborted media requests are normal when hls.js switches or seeks.
      if (!failure || !/ERR_ABORTED/.test(failure.errorText)) httpErrors.push(`${failure ? failure.errorText : 'failed'} ${req.url()}`);
    });
    const frame = await playerFrame(page, opts);
    const result = await waitForPlayback(frame, opts);
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot });
    out = report(opts, result, pageErrors, httpErrors);
  } catch (err) {
    out = { ok: false, reason: String(err && err.stack ? err.stack : err), url: opts.url, embed: opts.embed };
  } finally {
    if (context) await context.close().catch(() => {});
    if (opts.hostServer) opts.hostServer.close();
    await rm(profile, { recursive: true, force: true }).catch(() => {});
  }
  if (!out.ok && out.errors && out.errors.length) {
    for (const e of out.errors) console.error(`hls.js error: ${e.fatal ? 'fatal ' : ''}${e.type} ${e.details} ${e.message || ''}`);
  }
  console.log(JSON.stringify(out));
  process.exit(out.ok ? 0 : 1);
}

main();
