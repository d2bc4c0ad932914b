package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeCatalog records the bodies of writes it acknowledges; the first
// failFirst writes get a 503.
type fakeCatalog struct {
	mu        sync.Mutex
	bodies    []string
	auth      []string
	failFirst int64
	seen      atomic.Int64
}

func (f *fakeCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodGet {
		w.Write([]byte(`{"name":"s1"}`))
		return
	}
	if f.seen.Add(1) <= f.failFirst {
		http.Error(w, "no leader", http.StatusServiceUnavailable)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, r.URL.Path+" "+string(b))
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
}

func TestRunWrites(t *testing.T) {
	tests := []struct {
		kind, path, token, wantAuth string
	}{
		{"classmesh", "/api/v1/sites", "tok", "Bearer tok"},
		{"etcd", "/v3/kv/put", "tok", ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f := &fakeCatalog{}
			srv := httptest.NewServer(f)
			defer srv.Close()
			o := options{kind: tt.kind, urls: []string{srv.URL}, conc: 4, count: 40, dur: time.Minute, start: 7}
			res := runWrites(context.Background(), newWriter(tt.kind, tt.token, time.Second), o)
			if res.Writes != 40 || res.Errors != 0 || len(f.bodies) != 40 {
				t.Fatalf("writes %d errors %d bodies %d, want 40 0 40", res.Writes, res.Errors, len(f.bodies))
			}
			if res.P50ms <= 0 || res.P99ms < res.P50ms {
				t.Errorf("p50 %v p99 %v", res.P50ms, res.P99ms)
			}
			names := map[string]bool{}
			for i, b := range f.bodies {
				path, body, _ := strings.Cut(b, " ")
				if path != tt.path || f.auth[i] != tt.wantAuth {
					t.Fatalf("path %q auth %q", path, f.auth[i])
				}
				names[siteName(t, tt.kind, body)] = true
			}
			if len(names) != 40 || !names["s7"] || !names["s46"] {
				t.Errorf("names %v: want s7..s46 once each", names)
			}
		})
	}
}

// siteName decodes the site name a write carried.
func siteName(t *testing.T, kind, body string) string {
	t.Helper()
	if kind == "etcd" {
		var kv struct{ Key, Value string }
		if err := json.Unmarshal([]byte(body), &kv); err != nil {
			t.Fatal(err)
		}
		k, _ := base64.StdEncoding.DecodeString(kv.Key)
		v, _ := base64.StdEncoding.DecodeString(kv.Value)
		if !strings.Contains(string(v), `"name":"`+string(k)+`"`) {
			t.Fatalf("value %s does not name key %s", v, k)
		}
		return string(k)
	}
	var s struct{ Name string }
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s.Name
}

func TestRunFailoverRetriesUntilAck(t *testing.T) {
	f := &fakeCatalog{failFirst: 3}
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := options{kind: "classmesh", urls: []string{srv.URL}, start: 1}
	res, err := runFailover(context.Background(), newWriter("classmesh", "", time.Second), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts < 4 || res.AckedBy != srv.URL || res.RecoveryMS <= 0 {
		t.Errorf("result %+v: want >= 4 attempts acked by %s", res, srv.URL)
	}
}

func TestRunFailoverGivesUp(t *testing.T) {
	f := &fakeCatalog{failFirst: 1 << 40}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	o := options{kind: "etcd", urls: []string{srv.URL}}
	if _, err := runFailover(ctx, newWriter("etcd", "", time.Second), o); err == nil {
		t.Fatal("want an error when no write is acknowledged")
	}
}

func TestRunReads(t *testing.T) {
	srv := httptest.NewServer(&fakeCatalog{})
	defer srv.Close()
	res := runReads(context.Background(), newWriter("classmesh", "", time.Second), options{urls: []string{srv.URL + "/api/v1/sites/s1"}, count: 50})
	if res.Reads != 50 || res.Errors != 0 || res.P99ms < res.P50ms {
		t.Errorf("result %+v", res)
	}
}

func TestPercentileMS(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want float64
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7},
		{"median odd", ms(3, 1, 2), 0.5, 2},
		{"p99 of 100", ms(seq(100)...), 0.99, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentileMS(tt.in, tt.q); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"ok", []string{"-urls", "http://a/, http://b"}, true},
		{"no urls", nil, false},
		{"bad kind", []string{"-urls", "http://a", "-kind", "zk"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v", err)
			}
			if tt.ok && (len(o.urls) != 2 || o.urls[0] != "http://a") {
				t.Errorf("urls %q", o.urls)
			}
		})
	}
}
