// Peer-plane framing (PROTOCOL.md, "Peer plane"): JSON control messages in
// text frames, segment bytes in binary frames of at most 16 KiB. The
// receiving half (Receiver) is independent of WebRTC so that it can be tested
// with plain buffers.
import { isSeq, parseRanges } from './ranges.js';

export const LABEL = 'classmesh';
export const CHUNK = 16384;
export const MAX_CONTROL = 16384;

// parseControl decodes one peer control frame. It returns the message, or
// null when the frame is not a valid control message (a protocol error).
export function parseControl(text) {
  if (typeof text !== 'string' || text.length > MAX_CONTROL) return null;
  let m;
  try {
    m = JSON.parse(text);
  } catch (_) {
    return null;
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return null;
  switch (m.t) {
    case 'have': {
      const ranges = parseRanges(m.ranges);
      return ranges ? { t: 'have', ranges } : null;
    }
    case 'get':
      return isSeq(m.id) && isSeq(m.seq) ? { t: 'get', id: m.id, seq: m.seq } : null;
    case 'data':
      return isSeq(m.id) && isSeq(m.seq) && isSeq(m.size) ? { t: 'data', id: m.id, seq: m.seq, size: m.size } : null;
    case 'none':
    case 'cancel':
      return isSeq(m.id) ? { t: m.t, id: m.id } : null;
    default:
      return { t: String(m.t) }; // unknown types are ignored
  }
}

// Receiver assembles one incoming segment at a time. Binary frames are
// attributed to the most recent "data" header; frames that follow a header
// for a cancelled or stale request are discarded (the sender stops only
// after its current frame).
export class Receiver {
  // maxSize bounds any announced size (no allocation beyond it).
  constructor(maxSize) {
    this.maxSize = maxSize;
    this.rx = null; // {id, seq, size, expected, buf, got, done}
    this.current = -1; // id of the last data header
  }

  // begin starts waiting for request id (segment seq, expected size or 0).
  // done(result) is called once with {ok:true, data} or {ok:false, reason}
  // where reason is 'none', 'size', 'closed' or 'cancel'.
  begin(id, seq, expected, done, onProgress) {
    this.rx = { id, seq, expected, size: -1, buf: null, got: 0, done, onProgress };
  }

  busy() {
    return this.rx !== null;
  }

  finish(result) {
    const rx = this.rx;
    this.rx = null;
    if (rx) rx.done(result);
  }

  // control handles a parsed data/none message; it returns false on a
  // protocol violation (the caller closes the channel).
  control(m) {
    if (m.t === 'none') {
      if (this.rx && this.rx.id === m.id && this.rx.size < 0) this.finish({ ok: false, reason: 'none' });
      return true;
    }
    this.current = m.id;
    const rx = this.rx;
    if (!rx || rx.id !== m.id) return true; // stale answer to a cancelled request
    if (rx.size >= 0 || m.seq !== rx.seq || m.size === 0 || m.size > this.maxSize || (rx.expected > 0 && m.size !== rx.expected)) {
      this.finish({ ok: false, reason: 'size' });
      return false;
    }
    rx.size = m.size;
    rx.buf = new Uint8Array(m.size);
    if (rx.onProgress) rx.onProgress(0, m.size);
    return true;
  }

  // binary handles a binary frame (ArrayBuffer or view); false on a
  // violation (oversized frame, more bytes than announced).
  binary(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const rx = this.rx;
    if (bytes.byteLength > CHUNK) {
      if (rx && rx.size >= 0 && rx.id === this.current) this.finish({ ok: false, reason: 'size' });
      return false;
    }
    if (!rx || rx.size < 0 || rx.id !== this.current) return true; // discarded
    if (rx.got + bytes.byteLength > rx.size) {
      this.finish({ ok: false, reason: 'size' });
      return false;
    }
    rx.buf.set(bytes, rx.got);
    rx.got += bytes.byteLength;
    if (rx.onProgress) rx.onProgress(rx.got, rx.size);
    if (rx.got === rx.size) this.finish({ ok: true, data: rx.buf.buffer });
    return true;
  }

  // cancel abandons the current request locally. A request cancelled
  // (reason 'cancel') after some frames came resolves with partial:
  // {buf, got}, the segment-sized buffer whose first got bytes arrived (in
  // order: the channel is ordered and reliable).
  cancel(reason) {
    const rx = this.rx;
    const r = { ok: false, reason: reason || 'cancel' };
    if (rx && r.reason === 'cancel' && rx.got > 0) r.partial = { buf: rx.buf.buffer, got: rx.got };
    this.finish(r);
  }
}

// chunks yields the binary frames of a segment as views of data.
export function* chunks(data) {
  for (let off = 0; off < data.byteLength; off += CHUNK) {
    yield new Uint8Array(data, off, Math.min(CHUNK, data.byteLength - off));
  }
}
