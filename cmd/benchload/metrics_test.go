package main

import (
	"strings"
	"testing"
)

func TestParseSample(t *testing.T) {
	tests := []struct {
		name, line, wantName, wantLabels string
		wantValue                        float64
		wantOK                           bool
	}{
		{"labelled", `classmesh_cache_fills_total{source="origin"} 50`, "classmesh_cache_fills_total", `source="origin"`, 50, true},
		{"plain", "go_goroutines 12", "go_goroutines", "", 12, true},
		{"exponent", `classmesh_peer_fill_bytes_total{role="client"} 2.120301e+06`, "classmesh_peer_fill_bytes_total", `role="client"`, 2120301, true},
		{"timestamp", `x{a="b"} 3 1700000000000`, "x", `a="b"`, 3, true},
		{"brace in value", `x{a="}"} 7`, "x", `a="}"`, 7, true},
		{"comment", "# TYPE x counter", "", "", 0, false},
		{"blank", "   ", "", "", 0, false},
		{"no value", `x{a="b"}`, "", "", 0, false},
		{"bad value", "x abc", "", "", 0, false},
		{"name only", "x", "", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, labels, v, ok := parseSample(tt.line)
			if ok != tt.wantOK || name != tt.wantName || labels != tt.wantLabels || v != tt.wantValue {
				t.Fatalf("parseSample(%q) = %q, %q, %v, %v; want %q, %q, %v, %v",
					tt.line, name, labels, v, ok, tt.wantName, tt.wantLabels, tt.wantValue, tt.wantOK)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	tests := []struct{ labels, key, want string }{
		{`source="origin"`, "source", "origin"},
		{`route="GET /v/{asset}/{rendition}/{file}",code="200"`, "code", "200"},
		{`route="GET /v/{asset}/{rendition}/{file}",code="200"`, "route", "GET /v/{asset}/{rendition}/{file}"},
		{`a="x\"y",b="z"`, "b", "z"},
		{`a="x\"y",b="z"`, "a", `x"y`},
		{`a="line\nbreak"`, "a", "line\nbreak"},
		{`a="x"`, "missing", ""},
		{`a="unterminated`, "a", ""},
		{`a=x`, "a", ""},
		{"", "a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.labels+"/"+tt.key, func(t *testing.T) {
			if got := label(tt.labels, tt.key); got != tt.want {
				t.Fatalf("label(%q, %q) = %q, want %q", tt.labels, tt.key, got, tt.want)
			}
		})
	}
}

const samplePage = `# HELP classmesh_cache_fills_total Fills started, by source.
# TYPE classmesh_cache_fills_total counter
classmesh_cache_fills_total{source="origin"} 7
classmesh_cache_fills_total{source="peer"} 3
classmesh_http_requests_total{code="200",route="GET /v/{asset}/{rendition}/{file}"} 40
classmesh_http_requests_total{code="404",route="GET /v/{asset}/{rendition}/{file}"} 2
classmesh_http_requests_total{code="200",route="GET /metrics"} 9
classmesh_peer_fill_seconds_sum{result="ok"} 0.5
classmesh_peer_fill_seconds_sum{result="error"} 0.25
classmesh_peer_fill_seconds_count{result="ok"} 4
`

func TestSumSeries(t *testing.T) {
	tests := []struct {
		name  string
		match func(name, labels string) bool
		want  float64
	}{
		{"all fills", func(n, _ string) bool { return n == "classmesh_cache_fills_total" }, 10},
		{"origin fills", func(n, l string) bool { return n == "classmesh_cache_fills_total" && label(l, "source") == "origin" }, 7},
		{"media requests", func(n, l string) bool {
			return n == "classmesh_http_requests_total" && strings.Contains(label(l, "route"), "/v/")
		}, 42},
		{"histogram sum", func(n, _ string) bool { return n == "classmesh_peer_fill_seconds_sum" }, 0.75},
		{"nothing", func(string, string) bool { return false }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sumSeries(strings.NewReader(samplePage), tt.match); got != tt.want {
				t.Fatalf("sum = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzParseSample(f *testing.F) {
	for _, l := range strings.Split(samplePage, "\n") {
		f.Add(l)
	}
	f.Add(`x{a="\`)
	f.Add(`}{ 1`)
	f.Fuzz(func(t *testing.T, line string) {
		name, labels, _, ok := parseSample(line)
		if !ok {
			return
		}
		if !strings.Contains(line, name) || !strings.Contains(line, labels) {
			t.Fatalf("parseSample(%q) = %q, %q: not parts of the line", line, name, labels)
		}
		label(labels, "source") // must not panic
	})
}
