// Player page (/watch/{id}, and /t/{token}/watch/{id} for a signed link to
// a private lecture): plays the asset's HLS master playlist (the signed
// form with a token, which also admits the P2P socket) and shows playback
// statistics. A lecture the edge refuses gets a plain message (needs a
// link from your course, expired link) instead of player errors. Works inside a cross-origin iframe: it never touches
// window.top or window.parent.
import { HTTPError, accessMessage, checkAccess, getAsset, liveURL, masterURL, watchPath } from './lib/api.js';
import { el, formatBitrate } from './lib/format.js';
import { Player } from './lib/player.js';
import { StatsPanel } from './lib/stats.js';
import { Engine, parseMode } from './p2p/index.js';

const video = document.getElementById('player');
const message = document.getElementById('message');
const quality = document.getElementById('quality');
const params = new URLSearchParams(window.location.search);
const flag = (name) => ['1', 'true', 'yes'].includes((params.get(name) || '').toLowerCase());

// The test hook. errors is the same array the player appends to.
const hook = { hls: null, errors: [], stats: () => null, player: null, p2p: null, access: '' };
window.classmesh = hook;

// p2pEngine builds the peer-assisted loader's engine: ?p2p=on|download-only|off
// (default on; metered connections only download), ?p2p_debug=1 logs its
// decisions to the console. Its statistics object is
// window.classmeshStats, updated in place.
function p2pEngine(token) {
  const engine = new Engine({ mode: parseMode(params.get('p2p')) || 'on', debug: flag('p2p_debug'), token });
  window.classmeshStats = engine.stats;
  window.addEventListener('pagehide', () => engine.destroy());
  return engine;
}

function showMessage(text, isError) {
  message.textContent = text;
  message.className = isError ? 'notice notice-error' : 'notice';
  message.setAttribute('role', isError ? 'alert' : 'status');
  message.hidden = !text;
}

function showAsset(asset, id) {
  const title = (asset && asset.title) || id;
  document.getElementById('title').textContent = title;
  document.title = `${title} — classmesh`;
  const desc = document.getElementById('description');
  if (asset && asset.description) {
    desc.textContent = asset.description;
    desc.hidden = false;
  }
}

function fillQuality(player) {
  const levels = player.levels().slice().sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
  const stats = player.stats();
  const auto = el('option', { value: '-1' }, stats.autoLevel && stats.height ? `Auto (${stats.height}p)` : 'Auto');
  const options = levels.map((l) =>
    el('option', { value: String(l.index) }, `${l.height ? `${l.height}p` : `Level ${l.index + 1}`} · ${formatBitrate(l.bitrate)}`),
  );
  const selected = quality.value;
  quality.replaceChildren(auto, ...options);
  quality.value = stats.autoLevel ? '-1' : selected;
  quality.disabled = levels.length < 2;
}

// metadata loads the asset; it returns null when the API is unreachable, so
// that playback is still attempted.
async function metadata(id, token) {
  try {
    return await getAsset(id, token);
  } catch (err) {
    if (err instanceof HTTPError && err.status === 404) throw err;
    return null;
  }
}

// refused shows the access message for a refusal reason and marks the
// page (data-access) for tests and styles.
function refused(reason) {
  document.body.dataset.access = reason;
  document.getElementById('player-frame').hidden = true;
  document.getElementById('controls').hidden = true;
  showMessage(accessMessage(reason), true);
  message.classList.add('notice-access');
  hook.access = reason;
}

async function main() {
  const { id, token } = watchPath(window.location.pathname);
  if (!id) {
    showMessage('No lecture was given in the address.', true);
    return;
  }
  if (flag('live')) {
    // /watch/{session}?live=1: a live class, low-latency HLS from this
    // edge (hls.js plays LL-HLS parts and blocking reloads).
    showAsset({ title: `Live: ${id}` }, id);
    const src = liveURL(id, token);
    const reason = await checkAccess(src);
    if (reason) {
      refused(reason);
      return;
    }
    play(src, token);
    return;
  }
  const src = masterURL(id, token);
  const reason = await checkAccess(src);
  let asset;
  try {
    asset = await metadata(id, token);
  } catch (_) {
    showAsset(null, id);
    if (reason) refused(reason);
    else showMessage('This lecture does not exist. It may have been removed.', true);
    return;
  }
  showAsset(asset, id);
  if (reason) {
    refused(reason);
    return;
  }
  if (asset && asset.status === 'failed') {
    showMessage(`This lecture cannot be played: ${asset.reason || 'processing failed'}.`, true);
    return;
  }
  play(src, token);
}

function play(src, token) {
  const panel = new StatsPanel(document);
  const engine = p2pEngine(token);
  hook.p2p = engine;
  const player = new Player(video, src, {
    p2p: engine,
    onLevels: () => fillQuality(player),
    onFatal: (text) => {
      showMessage(text, true);
      hook.hls = null;
    },
    onRecovering: (text) => showMessage(text, false),
    onHealthy: () => {
      if (!message.hidden && message.className === 'notice') showMessage('', false);
    },
  });
  player.errors = hook.errors;
  hook.player = player;
  hook.stats = () => player.stats();
  if (flag('muted')) {
    video.muted = true;
    video.defaultMuted = true;
  }
  if (flag('autoplay')) video.autoplay = true;
  if (!player.start()) {
    showMessage('This browser cannot play HLS video. Please use a current browser.', true);
    return;
  }
  hook.hls = player.hls;
  if (flag('autoplay')) {
    video.play().catch(() => showMessage('Press play to start the lecture.', false));
  }
  quality.addEventListener('change', () => player.setLevel(Number(quality.value)));
  const tick = () => panel.render(player.stats(), player.errors, engine.stats);
  tick();
  window.setInterval(tick, 1000);
}

main();
