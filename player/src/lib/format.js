// Formatting helpers shared by the course and player pages.

// formatDuration renders seconds as "m:ss" or "h:mm:ss".
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !isFinite(seconds) || seconds < 0) return '–';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// formatBitrate renders bits per second as kbit/s or Mbit/s.
export function formatBitrate(bps) {
  if (typeof bps !== 'number' || !isFinite(bps) || bps <= 0) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

// renditionLabel names a video rendition by its height ("720p").
export function renditionLabel(r) {
  if (r && r.height) return `${r.height}p`;
  if (r && r.id) return String(r.id);
  return '?';
}

// el creates an element with text content and attributes. Text always goes
// through textContent, never innerHTML, so catalog data cannot inject markup.
export function el(tag, attrs, text) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// formatBytes renders a byte count as B, kB, MB or GB (decimal units).
export function formatBytes(n) {
  if (typeof n !== 'number' || !isFinite(n) || n < 0) return '–';
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}
