// Stats panel of the player page, refreshed once a second.
import { formatBitrate } from './format.js';

const fields = ['rendition', 'bitrate', 'bandwidth', 'buffer', 'dropped', 'errors'];

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

  // render shows one snapshot; errors is the player's error list.
  render(s, errors) {
    const size = s.height ? `${s.width || '?'}×${s.height}` : '–';
    this.set('rendition', s.autoLevel && s.height ? `${size} (auto)` : size);
    this.set('bitrate', formatBitrate(s.bitrate));
    this.set('bandwidth', formatBitrate(s.bandwidthEstimate));
    this.set('buffer', `${s.bufferAhead.toFixed(1)} s`);
    this.set('dropped', s.totalFrames ? `${s.droppedFrames} of ${s.totalFrames}` : String(s.droppedFrames));
    const fatal = errors.filter((e) => e.fatal).length;
    this.set('errors', fatal ? `${errors.length} (${fatal} fatal)` : String(errors.length));
    this.renderLog(errors);
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
