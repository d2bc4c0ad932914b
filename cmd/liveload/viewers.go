package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// got is one part a viewer finished downloading.
type got struct {
	key partKey
	at  time.Time
}

func (a partKey) less(b partKey) bool { return a.msn < b.msn || a.msn == b.msn && a.part < b.part }

// viewer is one simulated LL-HLS player: a blocking playlist request for
// the preload-hinted part, then a GET of every part listed since its last
// one. Parts listed when it attached are not fetched.
type viewer struct {
	client *http.Client
	base   string
	got    []got
	reqs   int
	errs   int
}

func (v *viewer) run(ctx context.Context) {
	var pl llPlaylist
	for ctx.Err() == nil && !pl.hasHint {
		body, err := v.do(ctx, v.base+"/media.m3u8", false)
		if err == nil {
			pl = parseLLHLS(string(body))
		} else {
			sleep(ctx, 100*time.Millisecond)
		}
	}
	last := partKey{-1, -1}
	for _, k := range pl.parts {
		last = k
	}
	for ctx.Err() == nil && pl.hasHint && !pl.ended {
		body, err := v.do(ctx, fmt.Sprintf("%s/media.m3u8?_HLS_msn=%d&_HLS_part=%d", v.base, pl.hint.msn, pl.hint.part), false)
		if err != nil {
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		if next := parseLLHLS(string(body)); next.hasHint || next.ended {
			pl = next
		}
		for _, k := range pl.parts {
			if !last.less(k) {
				continue
			}
			last = k
			if _, err := v.do(ctx, fmt.Sprintf("%s/part-%d.%d.m4s", v.base, k.msn, k.part), true); err == nil {
				v.got = append(v.got, got{k, time.Now()})
			}
		}
	}
}

// do GETs url; the body of a part is read and discarded.
func (v *viewer) do(ctx context.Context, url string, discard bool) ([]byte, error) {
	v.reqs++
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			v.errs++
		}
		return nil, err
	}
	defer resp.Body.Close()
	var body []byte
	if discard {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	} else {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("liveload: GET %s: %d", url, resp.StatusCode)
	}
	if err != nil && ctx.Err() == nil {
		v.errs++
	}
	return body, err
}

// runViewers runs n viewers against base until ctx ends, starting them
// over ramp so they do not all connect in the same instant.
func runViewers(ctx context.Context, c *http.Client, base string, n int, ramp time.Duration) []*viewer {
	vs := make([]*viewer, n)
	var wg sync.WaitGroup
	for i := range vs {
		vs[i] = &viewer{client: c, base: base}
		v := vs[i]
		delay := ramp * time.Duration(i) / time.Duration(max(n, 1))
		wg.Go(func() {
			sleep(ctx, delay)
			v.run(ctx)
		})
	}
	wg.Wait()
	return vs
}

// cpuSeconds reads utime+stime of a process from /proc (clock ticks of
// 1/100 s, the Linux USER_HZ).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("liveload: bad /proc stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("liveload: short /proc stat")
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("liveload: bad /proc stat times")
	}
	return (u + st) / 100, nil
}
