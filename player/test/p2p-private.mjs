#!/usr/bin/env node
// Private-lecture P2P test driver (issue 11, finding 2): real headless
// Chromium instances against one edge.
//
//   A, B   open the signed player page (--url, /t/{token}/watch/{asset});
//          A starts first, B once A has played --delay seconds, so B can
//          take segments from A over WebRTC (both admitted by the tracker
//          with the token in /t/{token}/p2p/ws).
//   T      the thief: opens the same lecture without a token (--thief-url,
//          /watch/{asset}) while A and B play. Its page must show the
//          "needs a link from your course" message; then, as a modified
//          client would, it opens the tracker socket itself and joins the
//          private swarm (--swarm): the tracker must answer error forbidden
//          and close, never welcome or neighbors. Screenshots of T at
//          desktop and 360 px phone width go to --out.
//   E      (optional, --expired-url) a signed page whose token expired:
//          the "expired link" message, screenshotted the same way.
//
// Prints one JSON line {ok, reason, b:{bytesFromPeers, bytesFromHTTP,
// peerShare, hashFailures}, thief:{access, message, bytesFromPeers,
// tracker:{messages, closeCode}}, expired:{access, message}, screenshots}.
//
//   node test/p2p-private.mjs --url URL --thief-url URL --swarm vod/a/r \
//     [--expired-url URL] [--seconds 10] [--delay 6] [--out DIR] [--min-peer-share 0.5]
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WEBRTC_LOOPBACK, launch } from './chromium.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'thief-url': { type: 'string' },
      'expired-url': { type: 'string' },
      swarm: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      delay: { type: 'string', default: '6' },
      out: { type: 'string', default: '' },
      'min-peer-share': { type: 'string', default: '0.5' },
      timeout: { type: 'string', default: '150' },
    },
  });
  const o = {
    url: values.url,
    thiefURL: values['thief-url'],
    expiredURL: values['expired-url'] || '',
    swarm: values.swarm,
    seconds: Number(values.seconds),
    delay: Number(values.delay),
    out: values.out,
    minPeerShare: Number(values['min-peer-share']),
    timeout: Number(values.timeout),
  };
  if (!o.url || !o.thiefURL || !o.swarm || !(o.seconds > 0) || !(o.delay >= 0) || !(o.timeout > 0)) {
    throw new Error('usage: node test/p2p-private.mjs --url URL --thief-url URL --swarm ID [--expired-url URL] [--seconds N] [--delay S] [--out DIR]');
  }
  return o;
}

class Browser {
  constructor(name) {
    this.name = name;
    this.pageErrors = [];
  }

  async open(url) {
    this.profile = await mkdtemp(path.join(os.tmpdir(), `classmesh-private-${this.name}-`));
    this.context = await launch(this.profile, [WEBRTC_LOOPBACK]);
    this.page = this.context.pages()[0] || (await this.context.newPage());
    this.page.on('pageerror', (err) => this.pageErrors.push(String(err && err.message ? err.message : err)));
    await this.page.goto(url, { waitUntil: 'load' });
  }

  state() {
    return this.page.evaluate(() => {
      const v = document.querySelector('video');
      const cm = window.classmesh || {};
      const p = window.classmeshStats ? JSON.parse(JSON.stringify(window.classmeshStats)) : {};
      const msg = document.getElementById('message');
      return {
        currentTime: v ? v.currentTime : 0,
        fatal: (cm.errors || []).filter((e) => e.fatal).length,
        errors: (cm.errors || []).length,
        access: document.body.dataset.access || '',
        message: msg && !msg.hidden ? msg.textContent : '',
        bytesFromPeers: p.bytesFromPeers || 0,
        bytesFromHTTP: p.bytesFromHTTP || 0,
        hashFailures: p.hashFailures || 0,
      };
    });
  }

  async close() {
    if (this.context) await this.context.close().catch(() => {});
    if (this.profile) await rm(this.profile, { recursive: true, force: true }).catch(() => {});
  }
}

// joinAsThief opens the tracker socket from the page as a modified client
// would and joins swarm; it returns what the tracker sent and the close
// code (0 if it stayed open for 5 s).
function joinAsThief(page, swarm) {
  return page.evaluate(
    (swarm) =>
      new Promise((resolve) => {
        const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
        const ws = new WebSocket(`${scheme}//${location.host}/p2p/ws`, 'classmesh-p2p.v1');
        const messages = [];
        const done = (closeCode) => resolve({ messages, closeCode });
        const timer = setTimeout(() => {
          ws.close();
          done(0);
        }, 5000);
        ws.onopen = () => ws.send(JSON.stringify({ t: 'join', swarm, upload: false }));
        ws.onmessage = (ev) => {
          try {
            messages.push(JSON.parse(ev.data));
          } catch (_) {
            messages.push({ raw: String(ev.data) });
          }
        };
        ws.onclose = (ev) => {
          clearTimeout(timer);
          done(ev.code);
        };
      }),
    swarm,
  );
}

// waitFor polls pred over the browsers until it holds or a page fails.
async function waitFor(browsers, deadline, pred) {
  while (Date.now() < deadline) {
    const states = [];
    for (const b of browsers) {
      const s = await b.state();
      if (s.fatal) return `page ${b.name}: fatal player error`;
      states.push(s);
    }
    if (pred(states)) return '';
    await sleep(500);
  }
  return 'timed out';
}

async function shots(b, out, base, result) {
  if (!out) return;
  await mkdir(out, { recursive: true });
  const desktop = path.join(out, `${base}-desktop.png`);
  await b.page.setViewportSize({ width: 1280, height: 800 });
  await b.page.screenshot({ path: desktop, fullPage: true });
  const phone = path.join(out, `${base}-phone.png`);
  await b.page.setViewportSize({ width: 360, height: 740 });
  await sleep(200);
  await b.page.screenshot({ path: phone, fullPage: true });
  result.screenshots.push(desktop, phone);
}

async function run(o) {
  const a = new Browser('a');
  const b = new Browser('b');
  const thief = new Browser('thief');
  const expired = new Browser('expired');
  const out = { ok: false, reason: '', b: null, thief: null, expired: null, screenshots: [] };
  try {
    const deadline = Date.now() + o.timeout * 1000;
    await a.open(o.url);
    let t0 = null;
    let reason = await waitFor([a], deadline, ([s]) => {
      if (t0 === null) t0 = s.currentTime;
      return s.currentTime - t0 >= o.delay;
    });
    let b0 = null;
    if (!reason) {
      await b.open(o.url);
      await thief.open(o.thiefURL);
      reason = await waitFor([a, b], deadline, ([, s]) => {
        if (b0 === null) b0 = s.currentTime;
        return s.currentTime - b0 >= o.seconds;
      });
    }
    if (!reason) {
      const ts = await thief.state();
      const tracker = await joinAsThief(thief.page, o.swarm);
      const after = await thief.state();
      out.thief = { access: ts.access, message: ts.message, bytesFromPeers: after.bytesFromPeers, errors: after.errors, tracker };
      await shots(thief, o.out, 'private-needs-link', out);
      const bs = await b.state();
      const total = bs.bytesFromPeers + bs.bytesFromHTTP;
      out.b = { bytesFromPeers: bs.bytesFromPeers, bytesFromHTTP: bs.bytesFromHTTP, hashFailures: bs.hashFailures,
        peerShare: total ? Number((bs.bytesFromPeers / total).toFixed(4)) : 0 };
      if (o.out) {
        const file = path.join(o.out, 'private-p2p-b.png');
        await b.page.screenshot({ path: file });
        out.screenshots.push(file);
      }
      const t = out.thief;
      if (t.access !== 'token_required') reason = `thief page: access ${JSON.stringify(t.access)}, want token_required`;
      else if (!/needs a link from your course/.test(t.message)) reason = `thief page message ${JSON.stringify(t.message)}`;
      else if (t.bytesFromPeers !== 0) reason = `thief took ${t.bytesFromPeers} bytes from peers`;
      else if (t.errors !== 0) reason = `thief page shows ${t.errors} player errors`;
      else if (t.tracker.messages.some((m) => m.t === 'welcome' || m.t === 'neighbors')) reason = 'the tracker admitted the thief to the private swarm';
      else if (!t.tracker.messages.some((m) => m.t === 'error' && m.code === 'forbidden')) reason = `tracker answered ${JSON.stringify(t.tracker.messages)}, want error forbidden`;
      else if (t.tracker.closeCode !== 1008) reason = `tracker close code ${t.tracker.closeCode}, want 1008`;
      else if (out.b.peerShare < o.minPeerShare) reason = `page b took ${(100 * out.b.peerShare).toFixed(1)} % from peers, want ≥ ${100 * o.minPeerShare} %`;
      else if (out.b.hashFailures) reason = 'hash failures on page b';
    }
    if (!reason && o.expiredURL) {
      await expired.open(o.expiredURL);
      reason = await waitFor([expired], deadline, ([s]) => s.access !== '');
      if (!reason) {
        const s = await expired.state();
        out.expired = { access: s.access, message: s.message };
        await shots(expired, o.out, 'private-expired', out);
        if (s.access !== 'expired' || !/expired/.test(s.message)) reason = `expired page: ${JSON.stringify(out.expired)}`;
      }
    }
    for (const x of [a, b, thief, expired]) {
      if (!reason && x.pageErrors.length) reason = `page ${x.name}: uncaught errors ${x.pageErrors.join('; ')}`;
    }
    if (reason === 'timed out') reason = `timed out after ${o.timeout} s`;
    out.reason = reason;
    out.ok = !reason;
  } catch (err) {
    out.reason = String(err && err.stack ? err.stack : err);
  } finally {
    await Promise.all([a.close(), b.close(), thief.close(), expired.close()]);
  }
  return out;
}

let opts;
try {
  opts = options(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const result = await run(opts);
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
