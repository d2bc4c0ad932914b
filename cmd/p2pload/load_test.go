package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p"
)

func TestRunAgainstTracker(t *testing.T) {
	tr, err := p2p.NewTracker(p2p.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tr)
	defer srv.Close()
	defer tr.Close()
	o := options{url: "ws" + strings.TrimPrefix(srv.URL, "http"), peers: 40, swarms: 2, rate: 2000, dialers: 16,
		interval: 200 * time.Millisecond, duration: time.Second, timeout: time.Minute,
		src: "127.0.0.1-127.0.0.3", ready: t.TempDir() + "/ready"}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	res, err := run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 40 || res.Welcomed != 40 || res.ConnectedAtEnd != 40 || res.Errors != 0 || res.PeersAnswers == 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestParseSrc(t *testing.T) {
	got, err := parseSrc("127.0.0.2-127.0.0.50")
	if err != nil || len(got) != 49 || got[0].String() != "127.0.0.2" {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"x", "127.0.0.5-127.0.0.1", "::1-::2"} {
		if _, err := parseSrc(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
