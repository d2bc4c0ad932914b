package rtmp

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status codes of _result, _error and onStatus information objects.
const (
	codeConnectSuccess  = "NetConnection.Connect.Success"
	codeConnectRejected = "NetConnection.Connect.Rejected"
	codePublishStart    = "NetStream.Publish.Start"
	codePublishBadName  = "NetStream.Publish.BadName"
	codePublishDenied   = "NetStream.Publish.Denied"
	codePlayFailed      = "NetStream.Play.Failed"
)

// maxMessageStreams bounds createStream calls per connection.
const maxMessageStreams = 8

// command handles an AMF0 command message.
func (c *conn) command(m message, body []byte) error {
	vals, err := amf0Decode(body)
	if err != nil {
		return err
	}
	name, ok := first(vals).(string)
	if !ok || len(vals) < 2 {
		return fmt.Errorf("%w: command without name and transaction id", ErrProtocol)
	}
	txn, _ := vals[1].(float64)
	args := vals[2:]
	switch name {
	case "connect":
		return c.onConnect(txn, args)
	case "releaseStream", "FCPublish", "createStream", "publish", "play", "play2",
		"deleteStream", "closeStream", "FCUnpublish":
		if !c.connected {
			return fmt.Errorf("%w: %s before connect", ErrProtocol, name)
		}
	default:
		c.log.Debug("rtmp: ignoring command", "name", name)
		return nil
	}
	switch name {
	case "releaseStream":
		return c.reply(c.sendCommand(0, "_result", txn, nil, amfUndef{}))
	case "FCPublish":
		key, _ := arg(args, 1).(string)
		return c.reply(c.sendCommand(0, "onFCPublish", 0, nil, status("status", codePublishStart, stripQuery(key))))
	case "createStream":
		return c.onCreateStream(txn)
	case "publish":
		return c.onPublish(m.streamID, args)
	case "play", "play2":
		c.sendCommand(m.streamID, "onStatus", 0, nil, status("error", codePlayFailed, "this server only accepts publishers"))
		c.flush()
		c.linger = true
		return fmt.Errorf("%w command %s: this server only ingests", ErrUnsupported, name)
	case "deleteStream":
		id, _ := arg(args, 1).(float64)
		if c.pub.stream != nil && id == float64(c.pub.streamID) {
			c.endPublish(nil)
		}
	case "closeStream":
		if c.pub.stream != nil && m.streamID == c.pub.streamID {
			c.endPublish(nil)
		}
	case "FCUnpublish":
		c.endPublish(nil)
	}
	return nil
}

func (c *conn) onConnect(txn float64, args []any) error {
	if c.connected {
		return fmt.Errorf("%w: second connect", ErrProtocol)
	}
	obj, ok := first(args).(amfObj)
	if !ok {
		return fmt.Errorf("%w: connect without command object", ErrProtocol)
	}
	app := stripQuery(obj.str("app"))
	app = strings.TrimSuffix(app, "/")
	if app != c.s.cfg.App {
		c.s.m.refused.WithLabelValues("app").Inc()
		c.sendCommand(0, "_error", txn, nil, status("error", codeConnectRejected, "unknown application"))
		c.flush()
		c.linger = true
		return fail(reasonRefused, fmt.Errorf("rtmp: connect to unknown application %q", app))
	}
	c.connected, c.app = true, app
	c.log.Debug("rtmp: connect", "app", app, "tcUrl", obj.str("tcUrl"), "flashVer", obj.str("flashVer"))
	var p [5]byte
	putU32(p[:], uint32(c.s.cfg.WindowAckSize))
	p[4] = 2 // dynamic
	putU32Msg := func(typ uint8, v uint32) error {
		var b [4]byte
		putU32(b[:], v)
		return c.sendControl(typ, b[:])
	}
	err := errors.Join(
		putU32Msg(typeWindowAckSize, uint32(c.s.cfg.WindowAckSize)),
		c.sendControl(typeSetPeerBandwidth, p[:]),
		putU32Msg(typeSetChunkSize, uint32(c.s.cfg.ChunkSize)),
	)
	if err != nil {
		return err
	}
	c.cw.setChunkSize(uint32(c.s.cfg.ChunkSize))
	props := amfObj{{"fmsVer", "FMS/3,0,1,123"}, {"capabilities", 31.0}}
	info := append(status("status", codeConnectSuccess, "Connection succeeded."), amfProp{"objectEncoding", 0.0})
	return c.reply(c.sendCommand(0, "_result", txn, props, info))
}

func (c *conn) onCreateStream(txn float64) error {
	if c.created >= maxMessageStreams {
		return fmt.Errorf("%w: more than %d createStream", ErrLimit, maxMessageStreams)
	}
	c.created++
	return c.reply(c.sendCommand(0, "_result", txn, nil, float64(c.created)))
}

func (c *conn) onPublish(streamID uint32, args []any) error {
	if c.pub.stream != nil {
		return fmt.Errorf("%w: publish while publishing", ErrProtocol)
	}
	if streamID == 0 || streamID > c.created {
		return fmt.Errorf("%w: publish on message stream %d, which was not created", ErrProtocol, streamID)
	}
	name, _ := arg(args, 1).(string)
	key := stripQuery(name)
	var st Stream
	var err error
	if key == "" {
		err = fmt.Errorf("%w: empty stream key", ErrUnknownKey)
	} else {
		st, err = c.s.pub.Publish(c.ctx, PublishRequest{App: c.app, Key: key, Remote: c.nc.RemoteAddr()})
		if err == nil && st == nil {
			err = errors.New("rtmp: Publisher returned a nil Stream")
		}
	}
	if err != nil {
		return c.refusePublish(streamID, key, err)
	}
	c.pub = publishState{stream: st, streamID: streamID, key: key}
	c.in.deadline = time.Time{} // from now on: IdleTimeout per read
	c.s.settle(c)
	c.s.m.publishing.Inc()
	c.log = c.log.With("key", redactKey(key))
	c.log.Info("rtmp: publishing", "app", c.app)
	begin := []byte{0, 0, 0, 0, 0, 0} // User Control StreamBegin
	putU32(begin[2:], streamID)
	return c.reply(errors.Join(
		c.sendControl(typeUserControl, begin),
		c.sendCommand(streamID, "onStatus", 0, nil, status("status", codePublishStart, key+" is now published.")),
	))
}

// refusePublish tells the client why and ends the connection.
func (c *conn) refusePublish(streamID uint32, key string, err error) error {
	code, label, desc := codePublishDenied, "denied", "publishing denied"
	if errors.Is(err, ErrUnknownKey) {
		code, label, desc = codePublishBadName, "unknown_key", "unknown stream key"
	}
	c.s.m.refused.WithLabelValues(label).Inc()
	c.sendCommand(streamID, "onStatus", 0, nil, status("error", code, desc))
	c.flush()
	c.linger = true
	return fail(reasonRefused, fmt.Errorf("rtmp: publish of key %s refused: %w", redactKey(key), err))
}

// endPublish closes the current Stream, if any, with err.
func (c *conn) endPublish(err error) {
	st := c.pub.stream
	if st == nil {
		return
	}
	c.pub = publishState{}
	c.s.m.publishing.Dec()
	st.Close(err)
	if err != nil {
		c.log.Info("rtmp: publish ended", "err", err.Error())
	} else {
		c.log.Info("rtmp: publish ended")
	}
}

// sendControl buffers a protocol control or user control message.
func (c *conn) sendControl(typ uint8, p []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.IdleTimeout)) // in case the buffer fills
	return c.cw.writeMessage(message{csid: csidControl, typ: typ, payload: p})
}

// sendCommand buffers an AMF0 command on message stream streamID.
func (c *conn) sendCommand(streamID uint32, vals ...any) error {
	body, err := amf0Append(nil, vals...)
	if err != nil {
		return err
	}
	csid := uint32(csidCommand)
	if streamID != 0 {
		csid = csidStream
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
	return c.cw.writeMessage(message{csid: csid, typ: typeCommandAMF0, streamID: streamID, payload: body})
}

// reply flushes after the buffering calls that produced err succeeded.
func (c *conn) reply(err error) error {
	if err != nil {
		return err
	}
	return c.flush()
}

func (c *conn) flush() error {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
	return c.cw.flush()
}

// status builds an information object.
func status(level, code, desc string) amfObj {
	return amfObj{{"level", level}, {"code", code}, {"description", desc}}
}

func first(vals []any) any { return arg(vals, 0) }

func arg(vals []any, i int) any {
	if i < len(vals) {
		return vals[i]
	}
	return nil
}

// stripQuery drops a query string (key?token=x).
func stripQuery(s string) string {
	s, _, _ = strings.Cut(s, "?")
	return s
}

// redactKey keeps enough of a stream key to tell keys apart in logs
// without writing the secret down.
func redactKey(key string) string {
	if len(key) <= 4 {
		return strings.Repeat("*", len(key))
	}
	return key[:4] + strings.Repeat("*", min(len(key)-4, 8))
}
