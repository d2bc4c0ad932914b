package relay

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkRelayHop measures one relay hop between two nodes on loopback:
// "latency" writes one object and waits for it at the remote subscriber
// (ns/op is the mean hop latency; p50/p99 are reported per object);
// "throughput" keeps a window of objects in flight (MB/s).
func BenchmarkRelayHop(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("latency/payload=%d", size), func(b *testing.B) { ryBenchLatency(b, size) })
	}
	for _, size := range []int{64 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("throughput/payload=%d", size), func(b *testing.B) { ryBenchThroughput(b, size) })
	}
}

func ryBenchPair(b *testing.B) (*TrackPublisher, *Subscription) {
	origin, edge := ryNewNode(b, "origin", nil), ryNewNode(b, "edge", nil)
	p := ryPublish(b, origin, "bench/v")
	return p, rySubscribe(b, edge, origin.addr, "bench/v")
}

func ryBenchLatency(b *testing.B, size int) {
	p, s := ryBenchPair(b)
	ctx := context.Background()
	payload := make([]byte, size)
	lat := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		p.Write(Object{Group: uint64(i / 4), ID: uint64(i % 4), Payload: payload, Created: start})
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns/obj")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns/obj")
}

func ryBenchThroughput(b *testing.B, size int) {
	p, s := ryBenchPair(b)
	const window, perGroup = 8, 8 // in flight: at most two groups, well inside the cache
	payload := make([]byte, size)
	got := make(chan struct{}, window+1)
	done := make(chan int)
	b.SetBytes(int64(size))
	b.ResetTimer()
	go func() { // reads until the track ends; lost objects only slow the writer down
		n := 0
		for {
			if _, err := s.Next(context.Background()); err != nil {
				done <- n
				return
			}
			n++
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	for i := range b.N {
		if i >= window {
			select {
			case <-got:
			case <-time.After(time.Second):
			}
		}
		p.Write(Object{Group: uint64(i / perGroup), ID: uint64(i % perGroup), Payload: payload})
	}
	p.Close()
	if n := <-done; n != b.N {
		b.ReportMetric(float64(b.N-n), "lost")
	}
}
