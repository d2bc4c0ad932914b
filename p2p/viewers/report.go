package viewers

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a Run. The first six fields are the stable
// interface of "classmesh swarm --json".
type Report struct {
	// Offload is peer bytes / all segment bytes the viewers received.
	Offload float64 `json:"offload"`
	// Stalls counts times a started viewer's buffer ran empty before the
	// end; StallSeconds is the time spent so, over all viewers.
	Stalls       int     `json:"stalls"`
	StallSeconds float64 `json:"stall_seconds"`
	// Startup is from a viewer's start to its first segment ready.
	StartupMsP50 float64 `json:"startup_ms_p50"`
	StartupMsP95 float64 `json:"startup_ms_p95"`
	// PeersConnected counts viewers that opened at least one data channel.
	PeersConnected int `json:"peers_connected"`
	// Components is the number of connected components of the data-channel
	// graph between viewers at the end (1: every viewer can reach every
	// other through neighbors).
	Components int `json:"components"`

	Peers          int     `json:"peers"`
	P2P            bool    `json:"p2p"`
	DurationS      float64 `json:"duration_s"`
	URL            string  `json:"url"`
	Rendition      string  `json:"rendition"`
	BandwidthBps   int64   `json:"bandwidth_bps"` // the variant's BANDWIDTH (0: media playlist given)
	StreamBps      int64   `json:"stream_bps"`    // measured: segment bytes / media seconds fetched
	StallRatio     float64 `json:"stall_ratio"`   // stall_seconds / (peers × duration)
	Joined         int     `json:"joined"`        // viewers whose tracker join succeeded
	Started        int     `json:"started"`       // viewers that started playing
	SegmentsPlayed int     `json:"segments_played"`
	BytesHTTP      int64   `json:"bytes_http"`
	BytesPeer      int64   `json:"bytes_peer"`
	BytesUploaded  int64   `json:"bytes_uploaded"`
	LinksOpened    int64   `json:"links_opened"`
	Malicious      int     `json:"malicious"`
	// Rejected counts peer segments that failed verification (hash or
	// size); BadPeersDropped counts (viewer, peer) pairs given up on.
	Rejected        int64 `json:"rejected_segments"`
	BadPeersDropped int64 `json:"bad_peers_dropped"`
	PeerTimeouts    int64 `json:"peer_timeouts"`
	InitFailures    int   `json:"init_failures"`
	// HTTPBytesByCause breaks BytesHTTP down by why a segment came over
	// HTTP (peer.Cause names: startup, near, offline, fetcher, no_peers,
	// no_hash, no_neighbor, timeout, rejected); HTTPSegmentsByCause
	// counts the segments.
	HTTPBytesByCause    map[string]int64 `json:"http_bytes_by_cause"`
	HTTPSegmentsByCause map[string]int64 `json:"http_segments_by_cause"`
	// PeerTails counts segments a late peer had partly sent and whose rest
	// came over HTTP (a Range request); their bytes count by source, the
	// HTTP part under the cause "timeout".
	PeerTails int64 `json:"peer_tails"`
}

func (r *runner) report(vs []*viewer, elapsed time.Duration) *Report {
	rep := &Report{
		Peers: len(vs), P2P: r.cfg.P2P, DurationS: elapsed.Seconds(), URL: r.mediaURL.String(),
		Rendition: r.variant.Name, BandwidthBps: r.variant.Bandwidth, Malicious: r.cfg.Malicious,
		HTTPBytesByCause: map[string]int64{}, HTTPSegmentsByCause: map[string]int64{},
	}
	var startups []float64
	var stall time.Duration
	var fetchedSecs float64
	for _, v := range vs {
		s := v.stats
		rep.BytesHTTP += s.BytesHTTP
		rep.BytesPeer += s.BytesPeer
		rep.BytesUploaded += s.BytesUploaded
		rep.LinksOpened += s.LinksOpened
		rep.Rejected += s.RejectedHash + s.RejectedSize
		rep.BadPeersDropped += s.BadPeers
		rep.PeerTimeouts += s.Timeouts
		rep.PeerTails += s.PeerTails
		for c, n := range s.HTTPBytesByCause {
			rep.HTTPBytesByCause[c] += n
			rep.HTTPSegmentsByCause[c] += s.HTTPSegmentsByCause[c]
		}
		rep.Stalls += v.stalls
		stall += v.stallTime
		rep.SegmentsPlayed += v.played
		fetchedSecs += v.fetchedSecs
		if s.LinksOpened > 0 {
			rep.PeersConnected++
		}
		if v.joined {
			rep.Joined++
		}
		if v.initErr {
			rep.InitFailures++
		}
		if v.started {
			rep.Started++
			startups = append(startups, float64(v.startup)/float64(time.Millisecond))
		}
	}
	if total := rep.BytesHTTP + rep.BytesPeer; total > 0 {
		rep.Offload = float64(rep.BytesPeer) / float64(total)
	}
	rep.StallSeconds = stall.Seconds()
	if fetchedSecs > 0 {
		rep.StreamBps = int64(float64(rep.BytesHTTP+rep.BytesPeer) * 8 / fetchedSecs)
	}
	if rep.DurationS > 0 {
		rep.StallRatio = rep.StallSeconds / (float64(len(vs)) * rep.DurationS)
	}
	rep.Components = components(vs)
	rep.StartupMsP50 = percentile(startups, 0.50)
	rep.StartupMsP95 = percentile(startups, 0.95)
	return rep
}

// percentile by nearest rank; 0 for no samples.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return math.Round(s[min(max(i, 0), len(s)-1)]*10) / 10
}

// WriteJSON writes r as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes r for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	mode := "on"
	if !r.P2P {
		mode = "off (HTTP only)"
	}
	rows := [][2]string{
		{"rendition", fmt.Sprintf("%s (%.2f Mbit/s measured)", r.Rendition, float64(r.StreamBps)/1e6)},
		{"peers", fmt.Sprintf("%d (P2P %s, %d malicious)", r.Peers, mode, r.Malicious)},
		{"duration", fmt.Sprintf("%.1f s", r.DurationS)},
		{"offload", fmt.Sprintf("%.1f %%  (%s from peers, %s over HTTP)", 100*r.Offload, mib(r.BytesPeer), mib(r.BytesHTTP))},
		{"stalls", fmt.Sprintf("%d, %.1f s in total (stall ratio %.4f)", r.Stalls, r.StallSeconds, r.StallRatio)},
		{"startup", fmt.Sprintf("p50 %.0f ms, p95 %.0f ms (%d of %d started)", r.StartupMsP50, r.StartupMsP95, r.Started, r.Peers)},
		{"peers connected", fmt.Sprintf("%d of %d (%d data channels opened, %d components)", r.PeersConnected, r.Peers, r.LinksOpened, r.Components)},
		{"rejected segments", fmt.Sprintf("%d (%d bad peers dropped, %d peer timeouts)", r.Rejected, r.BadPeersDropped, r.PeerTimeouts)},
		{"segments played", fmt.Sprintf("%d", r.SegmentsPlayed)},
		{"HTTP by cause", byCause(r.HTTPBytesByCause, r.HTTPSegmentsByCause)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// byCause formats the HTTP breakdown, largest first.
func byCause(bytes, segs map[string]int64) string {
	names := make([]string, 0, len(bytes))
	for c := range bytes {
		names = append(names, c)
	}
	sort.Slice(names, func(i, j int) bool { return bytes[names[i]] > bytes[names[j]] })
	out := ""
	for i, c := range names {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %s (%d)", c, mib(bytes[c]), segs[c])
	}
	if out == "" {
		return "-"
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// components counts the connected components of the viewers' data-channel
// graph (a viewer without channels is a component of its own).
func components(vs []*viewer) int {
	parent := make(map[string]string)
	var find func(string) string
	find = func(x string) string {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, v := range vs {
		if v.id != "" {
			parent[v.id] = v.id
		}
	}
	for _, v := range vs {
		for _, n := range v.linked {
			if _, ok := parent[n]; ok && v.id != "" {
				parent[find(v.id)] = find(n)
			}
		}
	}
	roots := make(map[string]bool)
	for id := range parent {
		roots[find(id)] = true
	}
	return len(roots)
}
