// Stats panel of the player page, refreshed once a second.
import { formatBitrate, formatBytes } from './format.js';

const fields = ['rendition', 'bitrate', 'bandwidth', 'buffer', 'dropped', 'errors', 'peers', 'from-peers', 'uploaded', 'split', 'hash-failures'];

// StatsPanel renders Player.stats() snapshots into the <aside class="stats">.
export class StatsPanel {
  constructor(doc) {
    this.doc = doc;
    this.cells = {};
    for (const f of fields) this.cells[f] = doc.getElementById(`stat-${f}`);
    this.log = doc.getElementById('error-log');
    this.logged = 0;
  }

  set(field, text) {
    const cell = this.cells[field];
    if (cell && cell.textContent !== text) cell.textContent = text;
  }

  // render shows one snapshot; errors is the player's error list, p2p the
  // peer-assisted loader's statistics (optional).
  render(s, errors, p2p) {
    const size = s.height ? `${s.width || '?'}×${s.height}` : '–';
    this.set('rendition', s.autoLevel && s.height ? `${size} (auto)` : size);
    this.set('bitrate', formatBitrate(s.bitrate));
    this.set('bandwidth', formatBitrate(s.bandwidthEstimate));
    this.set('buffer', `${s.bufferAhead.toFixed(1)} s`);
    this.set('dropped', s.totalFrames ? `${s.droppedFrames} of ${s.totalFrames}` : String(s.droppedFrames));
    const fatal = errors.filter((e) => e.fatal).length;
    this.set('errors', fatal ? `${errors.length} (${fatal} fatal)` : String(errors.length));
    this.renderLog(errors);
    if (p2p) this.renderP2P(p2p);
  }

  // renderP2P shows the peer-assisted delivery figures.
  renderP2P(p) {
    const mode = p.mode === 'off' ? 'off' : p.mode === 'download-only' ? 'download only' : '';
    this.set('peers', mode === 'off' ? 'P2P off' : `${p.peersConnected}${mode ? ` (${mode})` : ''}`);
    this.set('from-peers', formatBytes(p.bytesFromPeers));
    this.set('uploaded', formatBytes(p.bytesUploaded));
    const total = p.bytesFromPeers + p.bytesFromHTTP;
    this.set('split', total ? `${p.httpPercent.toFixed(0)} % / ${p.p2pPercent.toFixed(0)} %` : '–');
    this.set('hash-failures', String(p.hashFailures));
  }

  // renderLog appends new errors to the list under the panel (last 20 kept).
  renderLog(errors) {
    if (!this.log || errors.length === this.logged) return;
    for (const e of errors.slice(this.logged)) {
      const li = this.doc.createElement('li');
      li.textContent = `${e.fatal ? 'fatal ' : ''}${e.type}: ${e.details}${e.message ? ` — ${e.message}` : ''}`;
      this.log.append(li);
    }
    while (this.log.children.length > 20) this.log.firstElementChild.remove();
    this.logged = errors.length;
    this.log.hidden = false;
  }
}
