// Playback engine: hls.js on MediaSource/ManagedMediaSource, the browser's
// own HLS support otherwise. Collects every hls.js error for the stats panel
// and for the browser tests (window.classmesh.errors).
import Hls from 'hls.js';
import { createFragmentLoader } from '../p2p/index.js';

// hasMediaSource reports whether hls.js can drive the element.
function hasMediaSource() {
  return typeof window !== 'undefined' && ('MediaSource' in window || 'ManagedMediaSource' in window);
}

function bufferedRanges(video) {
  const out = [];
  for (let i = 0; i < video.buffered.length; i++) {
    out.push([video.buffered.start(i), video.buffered.end(i)]);
  }
  return out;
}

// bufferAhead is how many seconds are buffered past the playhead.
function bufferAhead(video) {
  const t = video.currentTime;
  for (const [start, end] of bufferedRanges(video)) {
    if (t >= start - 0.25 && t <= end) return Math.max(0, end - t);
  }
  return 0;
}

function frameCounts(video) {
  if (typeof video.getVideoPlaybackQuality === 'function') {
    const q = video.getVideoPlaybackQuality();
    return { dropped: q.droppedVideoFrames, total: q.totalVideoFrames };
  }
  return { dropped: video.webkitDroppedFrameCount || 0, total: video.webkitDecodedFrameCount || 0 };
}

// Player plays one HLS URL in one <video> element.
export class Player {
  // options: { onFatal(message), onRecovering(message), onLevels(), onError(entry),
  //            p2p (a p2p Engine: media segments from peers when it can) }
  constructor(video, src, options) {
    this.video = video;
    this.src = src;
    this.options = options || {};
    this.hls = null;
    this.engine = 'none';
    this.errors = [];
    this.recovered = { network: false, media: false };
  }

  // start attaches the engine; it returns false if the browser cannot play HLS.
  start() {
    if (hasMediaSource() && Hls.isSupported()) {
      this.startHls();
      return true;
    }
    if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.startNative();
      return true;
    }
    return false;
  }

  startHls() {
    // preferManagedMediaSource false: MediaSource where it exists,
    // ManagedMediaSource (iOS Safari 17.1+) where it does not.
    const config = { debug: false, backBufferLength: 60, preferManagedMediaSource: false };
    const engine = this.options.p2p;
    if (engine) {
      config.fLoader = createFragmentLoader(engine);
      engine.attach(this.video);
    }
    const hls = new Hls(config);
    this.hls = hls;
    if (engine) {
      hls.on(Hls.Events.LEVEL_LOADING, (_event, data) => engine.prepare(data.url));
      hls.on(Hls.Events.AUDIO_TRACK_LOADING, (_event, data) => engine.prepare(data.url));
    }
    this.engine = 'hls.js';
    hls.on(Hls.Events.ERROR, (_event, data) => this.handleError(data));
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.emit('onLevels'));
    hls.on(Hls.Events.LEVEL_SWITCHED, () => this.emit('onLevels'));
    hls.on(Hls.Events.FRAG_BUFFERED, () => this.emit('onHealthy'));
    hls.attachMedia(this.video);
    hls.loadSource(this.src);
  }

  startNative() {
    this.engine = 'native';
    this.video.addEventListener('error', () => {
      const err = this.video.error;
      const entry = { type: 'mediaError', details: `nativeError${err ? err.code : ''}`, fatal: true, message: err ? err.message : '' };
      this.record(entry);
      this.emit('onFatal', 'The video could not be played by this browser.');
    });
    this.video.addEventListener('loadedmetadata', () => this.emit('onLevels'), { once: true });
    this.video.src = this.src;
  }

  emit(name, arg) {
    const fn = this.options[name];
    if (typeof fn === 'function') fn(arg);
  }

  record(entry) {
    this.errors.push(entry);
    this.emit('onError', entry);
  }

  handleError(data) {
    const entry = {
      type: data.type,
      details: data.details,
      fatal: Boolean(data.fatal),
      message: data.error && data.error.message ? data.error.message : data.reason || '',
      time: this.video.currentTime,
    };
    if (data.response && data.response.code) entry.status = data.response.code;
    // Seconds buffered ahead of the playhead when hls.js saw a stall: with
    // data there, the media element (not delivery) was late.
    if (typeof data.buffer === 'number') entry.buffer = data.buffer;
    this.record(entry);
    if (data.fatal) this.recover(data);
  }

  // recover tries hls.js's recovery once per error type, then gives up.
  recover(data) {
    const hls = this.hls;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && !this.recovered.network) {
      this.recovered.network = true;
      this.emit('onRecovering', 'Network problem; retrying…');
      if (/^manifest/i.test(data.details)) {
        hls.loadSource(this.src);
      } else {
        hls.startLoad();
      }
      return;
    }
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !this.recovered.media) {
      this.recovered.media = true;
      this.emit('onRecovering', 'Decoding problem; recovering…');
      hls.recoverMediaError();
      return;
    }
    hls.destroy();
    this.hls = null;
    this.engine = 'failed';
    const what = data.type === Hls.ErrorTypes.NETWORK_ERROR ? 'The video could not be loaded' : 'The video could not be played';
    this.emit('onFatal', `${what} (${data.details}). Reload the page to try again.`);
  }

  // levels lists the variants, as hls.js numbers them.
  levels() {
    if (!this.hls) return [];
    return this.hls.levels.map((l, index) => ({ index, width: l.width, height: l.height, bitrate: l.bitrate, codecs: l.codecSet || '' }));
  }

  // setLevel selects a variant; -1 is automatic.
  setLevel(index) {
    if (this.hls) this.hls.nextLevel = index;
  }

  // stats is a snapshot for the stats panel and the tests.
  stats() {
    const v = this.video;
    const hls = this.hls;
    let level = -1;
    let current = null;
    if (hls) {
      level = hls.currentLevel;
      const shown = level >= 0 ? level : hls.loadLevel;
      current = shown >= 0 && hls.levels[shown] ? hls.levels[shown] : null;
    }
    const frames = frameCounts(v);
    return {
      engine: this.engine,
      currentTime: v.currentTime,
      duration: isFinite(v.duration) ? v.duration : null,
      paused: v.paused,
      ended: v.ended,
      readyState: v.readyState,
      level,
      autoLevel: hls ? hls.autoLevelEnabled : true,
      levels: this.levels(),
      width: current ? current.width : v.videoWidth,
      height: current ? current.height : v.videoHeight,
      bitrate: current ? current.bitrate : 0,
      bandwidthEstimate: hls && isFinite(hls.bandwidthEstimate) ? Math.round(hls.bandwidthEstimate) : 0,
      bufferAhead: bufferAhead(v),
      buffered: bufferedRanges(v),
      droppedFrames: frames.dropped,
      totalFrames: frames.total,
      errors: this.errors.length,
    };
  }
}
