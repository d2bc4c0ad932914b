package rtmp

import "fmt"

// video hands a video message to the Stream.
func (c *conn) video(m message) error {
	if c.pub.stream == nil {
		return fmt.Errorf("%w: video before publish", ErrProtocol)
	}
	t, err := parseVideoTag(m.payload)
	if err != nil {
		return err
	}
	switch t.kind {
	case tagConfig:
		size, err := parseAVCConfig(t.data)
		if err != nil {
			return err
		}
		c.pub.lengthSize = size
		c.s.m.media.WithLabelValues(kindVideoConfig).Inc()
		return streamErr(c.pub.stream.VideoConfig(avcConfigFor4(t.data)))
	case tagFrame:
		if c.pub.lengthSize == 0 {
			return fmt.Errorf("%w: video frame before the AVC sequence header", ErrProtocol)
		}
		dts := c.pub.videoTS.extend(m.timestamp)
		if len(t.data) == 0 {
			return nil
		}
		data, err := nalusTo4(t.data, c.pub.lengthSize)
		if err != nil {
			return err
		}
		c.s.m.media.WithLabelValues(kindVideo).Inc()
		return streamErr(c.pub.stream.Video(dts, t.cts, t.key, data))
	}
	return nil
}

// audio hands an audio message to the Stream.
func (c *conn) audio(m message) error {
	if c.pub.stream == nil {
		return fmt.Errorf("%w: audio before publish", ErrProtocol)
	}
	t, err := parseAudioTag(m.payload)
	if err != nil {
		return err
	}
	switch t.kind {
	case tagConfig:
		if err := parseASC(t.data); err != nil {
			return err
		}
		c.pub.haveASC = true
		c.s.m.media.WithLabelValues(kindAudioConfig).Inc()
		return streamErr(c.pub.stream.AudioConfig(append([]byte(nil), t.data...)))
	case tagFrame:
		if !c.pub.haveASC {
			return fmt.Errorf("%w: AAC frame before the AAC sequence header", ErrProtocol)
		}
		pts := c.pub.audioTS.extend(m.timestamp)
		if len(t.data) == 0 {
			return nil
		}
		c.s.m.media.WithLabelValues(kindAudio).Inc()
		return streamErr(c.pub.stream.Audio(pts, t.data))
	}
	return nil
}

// data handles a data message: metadata is logged, the rest ignored. A
// data message never ends a connection.
func (c *conn) data(body []byte) error {
	vals, err := amf0Decode(body)
	if err != nil {
		c.log.Debug("rtmp: undecodable data message", "err", err)
		return nil
	}
	if first(vals) == "@setDataFrame" {
		vals = vals[1:]
	}
	if first(vals) != "onMetaData" {
		c.log.Debug("rtmp: ignoring data message", "name", first(vals))
		return nil
	}
	c.s.m.media.WithLabelValues(kindMetadata).Inc()
	var meta []any
	switch v := arg(vals, 1).(type) {
	case amfECMA:
		meta = propAttrs(v)
	case amfObj:
		meta = propAttrs(v)
	}
	c.log.Debug("rtmp: metadata", meta...)
	return nil
}

// propAttrs turns scalar metadata properties into log attributes.
func propAttrs(props []amfProp) []any {
	var out []any
	for _, p := range props {
		switch p.Value.(type) {
		case float64, string, bool:
			if len(out) < 64 {
				out = append(out, p.Key, p.Value)
			}
		}
	}
	return out
}

// aggregate unpacks an aggregate message (RTMP 1.0 7.1.6): FLV-tag-like
// sub-messages whose timestamps are relative to the first one's.
func (c *conn) aggregate(m message) error {
	p := m.payload
	var base uint32
	for i := 0; len(p) > 0; i++ {
		if len(p) < 11 {
			return fmt.Errorf("%w: truncated aggregate message", ErrProtocol)
		}
		typ, size := p[0], int(u24(p[1:]))
		ts := u24(p[4:]) | uint32(p[7])<<24
		if size > len(p)-15 {
			return fmt.Errorf("%w: aggregate sub-message of %d bytes with %d left", ErrProtocol, size, len(p)-15)
		}
		if i == 0 {
			base = ts
		}
		sub := message{csid: m.csid, typ: typ, streamID: m.streamID, timestamp: m.timestamp + (ts - base),
			payload: p[11 : 11+size : 11+size]}
		var err error
		switch typ {
		case typeAudio:
			err = c.audio(sub)
		case typeVideo:
			err = c.video(sub)
		case typeDataAMF0:
			err = c.data(sub.payload)
		default:
			err = fmt.Errorf("%w: aggregate holds message type %d", ErrProtocol, typ)
		}
		if err != nil {
			return err
		}
		p = p[11+size+4:]
	}
	return nil
}

// streamErr labels an error returned by a Stream method.
func streamErr(err error) error {
	if err == nil {
		return nil
	}
	return fail(reasonStream, fmt.Errorf("rtmp: stream: %w", err))
}
