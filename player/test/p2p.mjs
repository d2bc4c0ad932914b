#!/usr/bin/env node
// Peer-assisted delivery test driver: two headless Chromium instances (own
// profiles, WebRTC host candidates not hidden behind mDNS) play the same
// player URL. Page A starts first; page B starts once A has played --delay
// seconds (and so holds segments); then both play until B has played
// --seconds more. Prints one JSON line:
//
//   {"ok":true,"reason":"","url":…,"seconds":20,
//    "a":{"played":…,"bytesFromPeers":…,"bytesFromHTTP":…,"bytesUploaded":…,
//         "peerShare":0.0,"hashFailures":0,"peersConnected":1,"errors":[],"fatal":0,…},
//    "b":{…},"screenshots":["OUT/p2p-a.png","OUT/p2p-b.png"]}
//
//   node test/p2p.mjs --url 'http://127.0.0.1:8080/watch/demo?autoplay=1&muted=1' \
//     --seconds 20 [--delay 8] [--out DIR] [--timeout S] [--min-peer-share 0.5]
//
// peerShare = bytesFromPeers / (bytesFromPeers + bytesFromHTTP) of media
// segments (window.classmeshStats). Exits 1 if either page had a fatal
// hls.js error, an uncaught page error, did not play long enough, or (with
// --min-peer-share) page B's peerShare is below the given fraction; else 0.
// With --out, the screenshots p2p-a.png, p2p-b.png and the pages' console
// output p2p-a.log, p2p-b.log go there (add p2p_debug=1 to the URL to log
// the loader's decisions).
// Usable as a module too: import { run } from './p2p.mjs'.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WEBRTC_LOOPBACK, launch } from './chromium.mjs';

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      delay: { type: 'string', default: '8' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      'min-peer-share': { type: 'string', default: '0' },
    },
  });
  const o = {
    url: values.url,
    seconds: Number(values.seconds),
    delay: Number(values.delay),
    out: values.out || '',
    minPeerShare: Number(values['min-peer-share']),
  };
  o.timeout = values.timeout ? Number(values.timeout) : (o.seconds + o.delay) * 3 + 30;
  if (!o.url || !(o.seconds > 0) || !(o.delay >= 0) || !(o.timeout > 0) || !(o.minPeerShare >= 0)) {
    throw new Error('usage: node test/p2p.mjs --url URL [--seconds N] [--delay S] [--out DIR] [--timeout S] [--min-peer-share F]');
  }
  return o;
}

// snapshot reads the player and P2P state of a page.
function snapshot(page) {
  return page.evaluate(() => {
    const cm = window.classmesh;
    const v = document.querySelector('video');
    const p = window.classmeshStats ? JSON.parse(JSON.stringify(window.classmeshStats)) : null;
    return {
      hook: Boolean(cm),
      currentTime: v ? v.currentTime : 0,
      ended: v ? v.ended : false,
      errors: cm ? cm.errors.slice() : [],
      p2p: p,
      message: (document.getElementById('message') || {}).textContent || '',
    };
  });
}

// Viewer is one browser instance with one player page.
class Viewer {
  constructor(name) {
    this.name = name;
    this.pageErrors = [];
    this.console = [];
    this.t0 = Date.now();
    this.start = null;
    this.last = null;
  }

  async open(url) {
    this.profile = await mkdtemp(path.join(os.tmpdir(), `classmesh-p2p-${this.name}-`));
    this.context = await launch(this.profile, [WEBRTC_LOOPBACK]);
    this.page = this.context.pages()[0] || (await this.context.newPage());
    this.page.on('pageerror', (err) => this.pageErrors.push(String(err && err.message ? err.message : err)));
    this.page.on('console', (m) => {
      if (this.console.length < 5000) this.console.push(`${((Date.now() - this.t0) / 1000).toFixed(1)} ${m.type()} ${m.text()}`);
    });
    await this.page.goto(url, { waitUntil: 'load' });
  }

  async poll() {
    this.last = await snapshot(this.page);
    if (this.start === null && this.last.hook) this.start = this.last.currentTime;
    return this.last;
  }

  played() {
    return this.start === null || !this.last ? 0 : this.last.currentTime - this.start;
  }

  fatal() {
    return this.last ? this.last.errors.filter((e) => e.fatal).length : 0;
  }

  report() {
    const p = (this.last && this.last.p2p) || {};
    const fromPeers = p.bytesFromPeers || 0;
    const fromHTTP = p.bytesFromHTTP || 0;
    return {
      played: Number(this.played().toFixed(2)),
      bytesFromPeers: fromPeers,
      bytesFromHTTP: fromHTTP,
      bytesUploaded: p.bytesUploaded || 0,
      peerShare: fromPeers + fromHTTP ? Number((fromPeers / (fromPeers + fromHTTP)).toFixed(4)) : 0,
      segmentsFromPeers: p.segmentsFromPeers || 0,
      segmentsFromHTTP: p.segmentsFromHTTP || 0,
      hashFailures: p.hashFailures || 0,
      badPeers: p.badPeers || 0,
      peerFailures: p.peerFailures || 0,
      peersConnected: p.peersConnected || 0,
      peerIds: p.peerIds || [],
      mode: p.mode || null,
      errors: this.last ? this.last.errors : [],
      fatal: this.fatal(),
      pageErrors: this.pageErrors,
      message: this.last ? this.last.message : '',
    };
  }

  async close() {
    if (this.context) await this.context.close().catch(() => {});
    if (this.profile) await rm(this.profile, { recursive: true, force: true }).catch(() => {});
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitUntil polls the viewers every 500 ms until done() holds, a page fails
// or the deadline passes; it returns '' or the reason it stopped.
async function waitUntil(viewers, deadline, done) {
  while (Date.now() < deadline) {
    for (const v of viewers) {
      const s = await v.poll();
      if (v.fatal()) return `page ${v.name}: fatal player error`;
      // Page A may reach the end first (it keeps serving its segments).
      if (s.ended && v === viewers[viewers.length - 1] && !done()) return `page ${v.name}: playback ended after ${v.played().toFixed(1)} s`;
    }
    if (done()) return '';
    await sleep(500);
  }
  return 'timed out';
}

// run executes the scenario and returns the result object.
export async function run(opts) {
  const a = new Viewer('a');
  const b = new Viewer('b');
  const out = { ok: false, reason: '', url: opts.url, seconds: opts.seconds, delay: opts.delay, a: null, b: null, screenshots: [] };
  try {
    const deadline = Date.now() + opts.timeout * 1000;
    await a.open(opts.url);
    let reason = await waitUntil([a], deadline, () => a.played() >= opts.delay);
    if (!reason) {
      await b.open(opts.url);
      reason = await waitUntil([a, b], deadline, () => b.played() >= opts.seconds);
    }
    if (reason === 'timed out') reason = `timed out after ${opts.timeout} s (a played ${a.played().toFixed(1)} s, b ${b.played().toFixed(1)} s)`;
    if (opts.out) {
      await mkdir(opts.out, { recursive: true });
      for (const v of [a, b]) {
        if (!v.page) continue;
        const file = path.join(opts.out, `p2p-${v.name}.png`);
        await v.page.screenshot({ path: file });
        out.screenshots.push(file);
        await writeFile(path.join(opts.out, `p2p-${v.name}.log`), v.console.join('\n') + '\n');
      }
    }
    out.a = a.report();
    out.b = b.page ? b.report() : null;
    if (!reason) {
      for (const [name, r] of [['a', out.a], ['b', out.b]]) {
        if (!reason && r.pageErrors.length) reason = `page ${name}: uncaught page errors`;
      }
    }
    if (!reason && out.b.peerShare < opts.minPeerShare) {
      reason = `page b took ${(100 * out.b.peerShare).toFixed(1)} % of its segment bytes from peers, want ≥ ${(100 * opts.minPeerShare).toFixed(0)} %`;
    }
    out.reason = reason;
    out.ok = !reason;
  } catch (err) {
    out.ok = false;
    out.reason = String(err && err.stack ? err.stack : err);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  return out;
}

async function main() {
  let opts;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  const out = await run(opts);
  for (const name of ['a', 'b']) {
    for (const e of (out[name] && out[name].errors) || []) {
      console.error(`page ${name} hls.js error: ${e.fatal ? 'fatal ' : ''}${e.type} ${e.details} ${e.message || ''}`);
    }
  }
  console.log(JSON.stringify(out));
  process.exit(out.ok ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
