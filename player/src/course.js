// Course page: lists the lectures from /api/v1/assets.
import { listAssets, watchURL } from './lib/api.js';
import { el, formatBitrate, formatDuration, renditionLabel } from './lib/format.js';

function renditionSummary(renditions) {
  const list = Array.isArray(renditions) ? renditions : [];
  const video = list
    .filter((r) => r.kind === 'video')
    .sort((a, b) => (b.height || 0) - (a.height || 0))
    .map((r) => `${renditionLabel(r)} (${formatBitrate(r.bandwidth)})`);
  const audio = list
    .filter((r) => r.kind === 'audio')
    .map((r) => (r.language && r.language !== 'und' ? `${r.language} (${formatBitrate(r.bandwidth)})` : formatBitrate(r.bandwidth)));
  const parts = [];
  if (video.length) parts.push(`Video: ${video.join(', ')}`);
  if (audio.length) parts.push(`Audio: ${audio.join(', ')}`);
  return parts.join(' · ') || 'No renditions';
}

function statusBadge(status) {
  const known = status === 'ready' || status === 'failed';
  const text = status === 'ready' ? 'Ready' : status === 'failed' ? 'Unavailable' : String(status || 'unknown');
  return el('span', { class: `badge badge-${known ? status : 'other'}` }, text);
}

function renderAsset(a) {
  const li = el('li', { class: 'asset' });
  const article = el('article', { 'aria-labelledby': `asset-${a.id}` });
  const h = el('h2', { id: `asset-${a.id}` });
  const ready = a.status === 'ready';
  h.append(ready ? el('a', { href: watchURL(a.id) }, a.title || a.id) : document.createTextNode(a.title || a.id));
  h.append(statusBadge(a.status));
  article.append(h);
  if (a.description) article.append(el('p', null, a.description));
  if (a.status === 'failed') {
    article.append(el('p', { class: 'asset-reason' }, `This lecture cannot be played: ${a.reason || 'unknown reason'}`));
  } else if (!ready) {
    article.append(el('p', { class: 'asset-reason' }, 'This lecture is not available yet.'));
  }
  const meta = el('ul', { class: 'asset-meta' });
  if (a.duration > 0) meta.append(el('li', null, `Duration ${formatDuration(a.duration)}`));
  meta.append(el('li', null, renditionSummary(a.renditions)));
  article.append(meta);
  if (ready) {
    article.append(el('a', { class: 'watch-link', href: watchURL(a.id), 'aria-label': `Watch ${a.title || a.id}` }, 'Watch lecture →'));
  }
  li.append(article);
  return li;
}

async function load() {
  const status = document.getElementById('status');
  const list = document.getElementById('assets');
  status.className = 'notice';
  status.textContent = 'Loading lectures…';
  try {
    const assets = await listAssets();
    list.replaceChildren(...assets.map(renderAsset));
    list.hidden = assets.length === 0;
    if (assets.length === 0) {
      status.textContent = 'No lectures have been published yet.';
    } else {
      status.hidden = true;
    }
  } catch (err) {
    status.className = 'notice notice-error';
    status.textContent = `Could not load the lectures (${err.message}). `;
    const retry = el('button', { type: 'button' }, 'Try again');
    retry.addEventListener('click', load);
    status.append(retry);
  }
}

load();
