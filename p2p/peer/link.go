package peer

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Limits on what one neighbor can make us hold.
const (
	maxQueuedCandidates = 64
	maxJunkMessages     = 16  // malformed or excess control messages before we hang up
	maxControlRate      = 100 // control messages per second from one neighbor
)

// link is the peer connection and data channel to one neighbor.
type link struct {
	p       *Peer
	remote  string
	offerer bool
	pc      *webrtc.PeerConnection
	getSlot chan struct{} // one inbound transfer at a time
	lowCh   chan struct{} // buffered amount fell below lowWater
	done    chan struct{} // closed by close
	timer   *time.Timer   // connect timeout

	mu          sync.Mutex
	dc          *webrtc.DataChannel
	open        bool
	closed      bool
	remoteSet   bool
	sdpSent     bool
	remoteCands []webrtc.ICECandidateInit
	localCands  []webrtc.ICECandidateInit
	have        wire.RangeSet
	nextID      uint64
	in          *inbound
	job         *serveJob
	junk        int
	ctl         *Bucket // control messages accepted from the neighbor
}

// newLink creates the peer connection (and, for the offerer, the data
// channel). The caller registers it and starts signalling.
func newLink(p *Peer, remote string, offerer bool) (*link, error) {
	pc, err := p.api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{p.cert}})
	if err != nil {
		return nil, err
	}
	l := &link{p: p, remote: remote, offerer: offerer, pc: pc,
		getSlot: make(chan struct{}, 1), lowCh: make(chan struct{}, 1), done: make(chan struct{}),
		ctl: newBucket(maxControlRate, 2*maxControlRate, p.cfg.Now)}
	pc.OnICECandidate(l.onLocalCandidate)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			l.close(wire.ReasonClosed)
		}
	})
	if offerer {
		ordered := true
		dc, err := pc.CreateDataChannel(wire.ChannelLabel, &webrtc.DataChannelInit{Ordered: &ordered})
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		l.attach(dc)
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			if dc.Label() != wire.ChannelLabel {
				_ = dc.Close()
				return
			}
			l.attach(dc)
		})
	}
	l.timer = time.AfterFunc(p.cfg.ConnectTimeout, func() {
		l.mu.Lock()
		open := l.open
		l.mu.Unlock()
		if !open {
			l.close(wire.ReasonTimeout)
		}
	})
	return l, nil
}

func (l *link) attach(dc *webrtc.DataChannel) {
	l.mu.Lock()
	if l.dc != nil || l.closed {
		l.mu.Unlock()
		_ = dc.Close()
		return
	}
	l.dc = dc
	l.mu.Unlock()
	dc.SetBufferedAmountLowThreshold(lowWater)
	dc.OnBufferedAmountLow(func() {
		select {
		case l.lowCh <- struct{}{}:
		default:
		}
	})
	dc.OnOpen(l.onOpen)
	dc.OnClose(func() { l.close(wire.ReasonClosed) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString {
			l.onControl(m.Data)
		} else {
			l.onBinary(m.Data)
		}
	})
}

func (l *link) onOpen() {
	l.mu.Lock()
	if l.closed || l.open {
		l.mu.Unlock()
		return
	}
	l.open = true
	l.mu.Unlock()
	l.timer.Stop()
	l.p.st.linksOpened.Add(1)
	l.p.st.linksOpen.Add(1)
	l.sendControl(&wire.HaveMsg{Ranges: l.p.store.ranges()})
	l.p.notify()
}

// isOpen reports whether the data channel is open and the link usable.
func (l *link) isOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open && !l.closed
}

func (l *link) holds(seq uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open && !l.closed && l.have.Contains(seq)
}

// sendControl writes a control message; errors mean the channel is going
// away, which OnClose handles.
func (l *link) sendControl(m wire.Message) {
	l.mu.Lock()
	dc, open := l.dc, l.open && !l.closed
	l.mu.Unlock()
	if !open {
		return
	}
	b, err := wire.Encode(m)
	if err == nil {
		_ = dc.SendText(string(b))
	}
}

// close tears the link down once; an inbound transfer ends with reason.
func (l *link) close(reason string) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	wasOpen := l.open
	in, job := l.in, l.job
	l.in = nil
	l.mu.Unlock()
	close(l.done)
	if l.timer != nil {
		l.timer.Stop()
	}
	if wasOpen {
		l.p.st.linksOpen.Add(-1)
	}
	if in != nil {
		in.finish(inResult{reason: reason})
	}
	if job != nil {
		job.cancel()
	}
	l.p.removeLink(l)
	l.p.goTracked(func() { _ = l.pc.Close() })
}

// startOffer creates and sends the offer (offerer side).
func (l *link) startOffer() error {
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	l.sendLocalDescription(offer)
	return nil
}

// sendLocalDescription sends our SDP, then any candidates gathered before
// it (a candidate must never overtake the SDP).
func (l *link) sendLocalDescription(sd webrtc.SessionDescription) {
	l.p.sendSignal(l.remote, signalData{SDP: &sd})
	l.mu.Lock()
	l.sdpSent = true
	cands := l.localCands
	l.localCands = nil
	l.mu.Unlock()
	for i := range cands {
		l.p.sendSignal(l.remote, signalData{Candidate: &cands[i]})
	}
}

func (l *link) onLocalCandidate(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	init := c.ToJSON()
	l.mu.Lock()
	if !l.sdpSent {
		l.localCands = append(l.localCands, init)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.p.sendSignal(l.remote, signalData{Candidate: &init})
}

// applyRemote sets the remote SDP; an offer is answered.
func (l *link) applyRemote(sd webrtc.SessionDescription) error {
	if err := l.pc.SetRemoteDescription(sd); err != nil {
		return err
	}
	l.mu.Lock()
	l.remoteSet = true
	cands := l.remoteCands
	l.remoteCands = nil
	l.mu.Unlock()
	for _, c := range cands {
		_ = l.pc.AddICECandidate(c)
	}
	if sd.Type != webrtc.SDPTypeOffer {
		return nil
	}
	answer, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := l.pc.SetLocalDescription(answer); err != nil {
		return err
	}
	l.sendLocalDescription(answer)
	return nil
}

// addRemoteCandidate adds a candidate, or queues it until the remote SDP
// is set.
func (l *link) addRemoteCandidate(c webrtc.ICECandidateInit) {
	if c.Candidate == "" {
		return // end of candidates
	}
	l.mu.Lock()
	if !l.remoteSet {
		if len(l.remoteCands) < maxQueuedCandidates {
			l.remoteCands = append(l.remoteCands, c)
		}
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	_ = l.pc.AddICECandidate(c)
}

// onControl handles one text frame from the neighbor.
func (l *link) onControl(b []byte) {
	m, err := decodeChannel(b)
	if err == nil && l.ctl.reserve(1) > 0 {
		err = errBadChannelMessage // above the rate: dropped, counted
	}
	if err != nil {
		l.mu.Lock()
		l.junk++
		junk := l.junk
		l.mu.Unlock()
		if junk > maxJunkMessages {
			l.close(wire.ReasonClosed)
		}
		return
	}
	switch m.t {
	case wire.TypeHave:
		l.mu.Lock()
		l.have = m.have
		l.mu.Unlock()
		l.p.notify()
	case wire.TypeGet:
		l.serve(m.id, m.seq)
	case wire.TypeData:
		l.onData(m)
	case wire.TypeNone:
		l.mu.Lock()
		in := l.in
		if in != nil && in.id == m.id {
			l.in = nil
		} else {
			in = nil
		}
		l.mu.Unlock()
		if in != nil {
			in.finish(inResult{none: true})
		}
	case wire.TypeCancel:
		l.mu.Lock()
		if l.job != nil && l.job.id == m.id {
			l.job.cancel()
		}
		l.mu.Unlock()
	}
}
