package p2p

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Connection failure reasons (label of classmesh_p2p_connection_failures_total).
const (
	failAddrConns   = "addr_conns"    // too many sockets from one address
	failAddrRate    = "addr_rate"     // connects per second from one address
	failSubprotocol = "subprotocol"   // client did not offer classmesh-p2p.v1
	failAccept      = "accept"        // WebSocket handshake failed
	failErrors      = "errors"        // repeated protocol errors (1008)
	failTooLarge    = "too_large"     // frame above the hard limit (1009)
	failDropped     = "dropped"       // bad peer dropped
	failSlow        = "slow"          // send queue full
	failWrite       = "write"         // write error or timeout
	failIdle        = "idle"          // nothing received for IdleTimeout
	failUnknownSwrm = "unknown_swarm" // join of a swarm this edge does not serve
	failForbidden   = "forbidden"     // join refused by Config.Admit
	failShutdown    = "shutdown"      // tracker closed
)

// topSwarms is how many swarms get a classmesh_p2p_swarm_peers series.
const topSwarms = 10

type metrics struct {
	peers          prometheus.Gauge
	swarms         prometheus.Gauge
	swarmPeers     *prometheus.GaugeVec
	swarmMax       prometheus.Gauge
	servedHTTP     *prometheus.CounterVec
	played         *prometheus.CounterVec
	offload        *prometheus.GaugeVec
	hashFailures   prometheus.Counter
	peerFailures   *prometheus.CounterVec
	connFailures   *prometheus.CounterVec
	messages       *prometheus.CounterVec
	reports        *prometheus.CounterVec
	drops          *prometheus.CounterVec
	signalsDropped prometheus.Counter
	spike          prometheus.Gauge
	spikeSwarms    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &metrics{
		peers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_p2p_peers", Help: "Connected tracker sockets."}),
		swarms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_p2p_swarms", Help: "Swarms with at least one peer."}),
		swarmPeers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classmesh_p2p_swarm_peers",
			Help: fmt.Sprintf("Peers of the %d largest swarms.", topSwarms)}, []string{"swarm"}),
		swarmMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_p2p_swarm_size_max", Help: "Peers of the largest swarm."}),
		servedHTTP: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_bytes_served_http_total",
			Help: "Segment bytes this edge served over HTTP to swarm members' addresses, by asset and site."},
			[]string{"asset", "site"}),
		played: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_bytes_played_total",
			Help: "Segment bytes viewers reported as played, by asset, site and source (http, peer)."},
			[]string{"asset", "site", "source"}),
		offload: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classmesh_p2p_offload_ratio",
			Help: "1 - served/played over the offload window, by asset."}, []string{"asset"}),
		hashFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_p2p_hash_failures_total",
			Help: "Reports of a segment from a peer that failed SHA-256 or size verification."}),
		peerFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_peer_transfer_failures_total",
			Help: "Failed peer transfers reported by downloaders, by reason."}, []string{"reason"}),
		connFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_connection_failures_total",
			Help: "Tracker sockets refused or closed by the tracker, by reason."}, []string{"reason"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_messages_total",
			Help: "Messages received from clients, by type (invalid = failed to decode)."}, []string{"type"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_reports_total",
			Help: "Bad-segment reports about a peer, by outcome (accepted, dropped, ignored_*)."}, []string{"outcome"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_p2p_drops_total",
			Help: "Peers dropped for bad segments, by cause (quorum: disconnected; reporter: unpaired from one reporter)."},
			[]string{"cause"}),
		signalsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_p2p_signals_dropped_total",
			Help: "Signals not relayed because the recipient's send queue was half full."}),
		spike: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_p2p_spike", Help: "1 while this node is in spike mode (egress or any swarm)."}),
		spikeSwarms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_p2p_spike_swarms", Help: "Swarms in spike mode."}),
	}
	for _, c := range []prometheus.Collector{m.peers, m.swarms, m.swarmPeers, m.swarmMax, m.servedHTTP,
		m.played, m.offload, m.hashFailures, m.peerFailures, m.connFailures, m.messages, m.reports, m.drops, m.signalsDropped,
		m.spike, m.spikeSwarms} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("p2p: register metrics: %w", err)
		}
	}
	return m, nil
}

// labelSet caps the distinct values of one label; values past the cap are
// reported as "other". It is guarded by its owner's lock.
type labelSet struct {
	max  int
	seen map[string]struct{}
}

func newLabelSet(max int) *labelSet {
	return &labelSet{max: max, seen: make(map[string]struct{})}
}

func (l *labelSet) get(v string) string {
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return "other"
	}
	l.seen[v] = struct{}{}
	return v
}
