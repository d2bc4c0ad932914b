package peer

import (
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// APIConfig chooses how the shared WebRTC API gathers ICE candidates.
// There are never STUN or TURN servers: peers are expected on one network
// (a campus, a machine).
type APIConfig struct {
	// Interfaces limits host candidates to these network interfaces (e.g.
	// "lo"). nil means every interface.
	Interfaces []string
	// Loopback includes loopback candidates (peers on one machine).
	Loopback bool
	// IPv6 gathers IPv6 candidates too. false: UDP over IPv4 only.
	IPv6 bool
	// SCTPReceiveBuffer bounds each association's receive buffer. 0 means
	// 512 KiB.
	SCTPReceiveBuffer uint32
	// UDPBuffer is the kernel receive and send buffer of each ICE socket
	// (bursts of a segment overflow the default). 0 means 1 MiB; the
	// kernel caps it at net.core.rmem_max.
	UDPBuffer int
	// LogWriter receives pion's own warnings. nil discards them.
	LogWriter io.Writer
}

// bufNet is the standard network with larger UDP socket buffers.
type bufNet struct {
	transport.Net
	size int
}

func (n bufNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err == nil {
		_ = c.SetReadBuffer(n.size)
		_ = c.SetWriteBuffer(n.size)
	}
	return c, err
}

// NewAPI returns a WebRTC API for data channels only (no media engine, no
// interceptors), with mDNS candidates off. One API can serve any number of
// peers in one process.
func NewAPI(c APIConfig) (*webrtc.API, error) {
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(c.Loopback)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if c.IPv6 {
		types = append(types, webrtc.NetworkTypeUDP6)
	}
	se.SetNetworkTypes(types)
	if c.Interfaces != nil {
		names := slices.Clone(c.Interfaces)
		se.SetInterfaceFilter(func(name string) bool { return slices.Contains(names, name) })
	}
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	buf := c.SCTPReceiveBuffer
	if buf == 0 {
		buf = 1024 << 10
	}
	se.SetSCTPMaxReceiveBufferSize(buf)
	w := c.LogWriter
	if w == nil {
		w = io.Discard
	}
	lvl := logging.LogLevelWarn
	if c.LogWriter == nil {
		lvl = logging.LogLevelDisabled
	}
	se.LoggerFactory = &logging.DefaultLoggerFactory{Writer: w, DefaultLogLevel: lvl}
	std, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("peer: network: %w", err)
	}
	udpBuf := c.UDPBuffer
	if udpBuf == 0 {
		udpBuf = 1 << 20
	}
	se.SetNet(bufNet{Net: std, size: udpBuf})
	return webrtc.NewAPI(webrtc.WithSettingEngine(se)), nil
}
