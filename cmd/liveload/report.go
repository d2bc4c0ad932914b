package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dist summarises a sample of milliseconds (nearest rank).
type dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(ms []float64) dist {
	if len(ms) == 0 {
		return dist{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return math.Round(s[max(i, 0)]*10) / 10
	}
	return dist{N: len(s), P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: q(1)}
}

func msSince(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }

// nodeLatency is B11 for one node.
type nodeLatency struct {
	Name string `json:"name"`
	// Latency is listed − (ffmpeg start + media end): the newest frame of
	// the part or segment; an upper bound (includes ffmpeg's own start).
	Latency dist `json:"latency"`
	// Oldest is listed − (ffmpeg start + media start): its oldest frame.
	Oldest dist `json:"latency_oldest_frame"`
	// FirstPacket is listed − (first packet at the ingest + media end).
	FirstPacket dist `json:"latency_from_first_packet"`
	HopOver     dist `json:"hop_overhead_vs_ingest"`
	Errors      int  `json:"errors"`
}

type b11Result struct {
	StartupMs float64       `json:"ffmpeg_startup_ms"` // first packet at ingest − ffmpeg start
	Nodes     []nodeLatency `json:"nodes"`
	Nginx     *nodeLatency  `json:"nginx,omitempty"`
	NginxLate bool          `json:"nginx_attached_late,omitempty"`
}

// captureBase is the wall clock of media time 0 as the ingest saw it: the
// program date time of a segment (anchored by the ingest to its clock when
// the first video frame arrived) minus the media time of its first part.
func captureBase(parts map[partKey]partSeen, pdt map[int]time.Time) (time.Time, error) {
	msns := make([]int, 0, len(pdt))
	for m := range pdt {
		msns = append(msns, m)
	}
	slices.Sort(msns)
	for _, m := range msns {
		if p, ok := parts[partKey{m, 0}]; ok && p.fetched {
			return pdt[m].Add(-time.Duration(p.start * float64(time.Second))), nil
		}
	}
	return time.Time{}, fmt.Errorf("liveload: no program date time with a fetched first part on the ingest")
}

func runB11(ctx context.Context, c *http.Client, o options) (b11Result, error) {
	obs := make([]*observer, len(o.nodes))
	var wg sync.WaitGroup
	for i, n := range o.nodes {
		obs[i] = newObserver(c, n.url, true)
		wg.Go(func() { obs[i].run(ctx) })
	}
	var ng *tsPoller
	if o.nginx != "" {
		ng = &tsPoller{client: c, url: o.nginx, interval: o.interval}
		wg.Go(func() { ng.run(ctx) })
	}
	wg.Wait()
	var res b11Result
	ingest, pdt, _ := obs[0].snapshot()
	base, err := captureBase(ingest, pdt)
	if err != nil {
		return res, err
	}
	ffStart, err := readUnixTime(o.ffStart)
	if err != nil {
		return res, err
	}
	res.StartupMs = msSince(ffStart, base)
	for i, ob := range obs {
		parts, _, errs := ob.snapshot()
		var lat, raw, old, hop []float64
		for k, p := range parts {
			if p.fetched {
				end := time.Duration(p.mediaEnd * float64(time.Second))
				lat = append(lat, msSince(base.Add(end), p.listed))
				raw = append(raw, msSince(ffStart.Add(end), p.listed))
				old = append(old, msSince(ffStart.Add(time.Duration(p.start*float64(time.Second))), p.listed))
			}
			if q, ok := ingest[k]; ok && i > 0 {
				hop = append(hop, msSince(q.listed, p.listed))
			}
		}
		res.Nodes = append(res.Nodes, nodeLatency{Name: o.nodes[i].name, FirstPacket: summarize(lat),
			Latency: summarize(raw), Oldest: summarize(old), HopOver: summarize(hop), Errors: errs})
	}
	if ng != nil {
		var lat, raw, old []float64
		for _, s := range ng.segs {
			end := time.Duration(s.mediaEnd * float64(time.Second))
			lat = append(lat, msSince(base.Add(end), s.listed))
			raw = append(raw, msSince(ffStart.Add(end), s.listed))
			old = append(old, msSince(ffStart.Add(end-time.Duration(s.dur*float64(time.Second))), s.listed))
		}
		res.Nginx = &nodeLatency{Name: "nginx-rtmp", FirstPacket: summarize(lat), Latency: summarize(raw), Oldest: summarize(old)}
		res.NginxLate = ng.late
	}
	return res, nil
}

func readUnixTime(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("liveload: ffmpeg start: %w", err)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("liveload: ffmpeg start: %w", err)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

type b12Result struct {
	Viewers     int     `json:"viewers"`
	Seconds     float64 `json:"seconds"`
	EdgeCores   float64 `json:"edge_cpu_cores"`
	Delivery    dist    `json:"part_delivery_after_ingest_listed"`
	HopOver     dist    `json:"hop_overhead"`
	Parts       int     `json:"parts_delivered"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	ViewersIdle int     `json:"viewers_without_parts"`
	LoadCores   float64 `json:"loadgen_cpu_cores"`
	LoadAvg     string  `json:"loadavg_after"`
}

func runB12(ctx context.Context, c *http.Client, o options) (b12Result, error) {
	res := b12Result{Viewers: o.viewers}
	cpu0, err := cpuSeconds(o.pid)
	if err != nil && o.pid != 0 {
		return res, err
	}
	self0, _ := cpuSeconds(os.Getpid())
	t0 := time.Now()
	in, ed := newObserver(c, o.ingest, false), newObserver(c, o.edge, false)
	var wg sync.WaitGroup
	wg.Go(func() { in.run(ctx) })
	wg.Go(func() { ed.run(ctx) })
	vs := runViewers(ctx, c, o.edge, o.viewers, o.ramp)
	wg.Wait()
	res.Seconds = time.Since(t0).Seconds()
	if o.pid != 0 {
		cpu1, err := cpuSeconds(o.pid)
		if err != nil {
			return res, err
		}
		res.EdgeCores = math.Round((cpu1-cpu0)/res.Seconds*100) / 100
	}
	self1, _ := cpuSeconds(os.Getpid())
	res.LoadCores = math.Round((self1-self0)/res.Seconds*100) / 100
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	ingest, _, _ := in.snapshot()
	edge, _, errs := ed.snapshot()
	var hop, del []float64
	for k, p := range edge {
		if q, ok := ingest[k]; ok {
			hop = append(hop, msSince(q.listed, p.listed))
		}
	}
	res.Errors = errs
	for _, v := range vs {
		res.Requests += v.reqs
		res.Errors += v.errs
		res.Parts += len(v.got)
		if len(v.got) == 0 {
			res.ViewersIdle++
		}
		for _, g := range v.got {
			if q, ok := ingest[g.key]; ok {
				del = append(del, msSince(q.listed, g.at))
			}
		}
	}
	res.HopOver, res.Delivery = summarize(hop), summarize(del)
	return res, nil
}
