package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// scraper reads counters from classmesh /metrics pages. A page it cannot
// read counts as zero (the run's JSON then shows an implausible delta).
type scraper struct {
	client *http.Client
}

// fills sums classmesh_cache_fills_total over urls, only for the given
// source label unless source is empty.
func (s scraper) fills(urls []string, source string) float64 {
	return s.sum(urls, func(name, labels string) bool {
		return name == "classmesh_cache_fills_total" && (source == "" || label(labels, "source") == source)
	})
}

// upstream sums classmesh_http_requests_total of the media routes (/v/...)
// over urls: the requests an upstream classmesh node answered.
func (s scraper) upstream(urls []string) float64 {
	return s.sum(urls, func(name, labels string) bool {
		return name == "classmesh_http_requests_total" && strings.Contains(label(labels, "route"), "/v/")
	})
}

// counter returns one series' value (name with exact labels, e.g.
// `classmesh_peer_fill_bytes_total{role="client"}`) summed over urls.
func (s scraper) counter(urls []string, series string) float64 {
	return s.sum(urls, func(name, labels string) bool {
		if labels == "" {
			return name == series
		}
		return name+"{"+labels+"}" == series
	})
}

func (s scraper) sum(urls []string, match func(name, labels string) bool) float64 {
	var total float64
	for _, u := range urls {
		total += s.scrape(u, match)
	}
	return total
}

// scrapeTimeout bounds one /metrics read.
const scrapeTimeout = 10 * time.Second

func (s scraper) scrape(url string, match func(name, labels string) bool) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	return sumSeries(resp.Body, match)
}

// sumSeries adds the values of the Prometheus text-format samples in r
// for which match(name, labels) holds; labels is the text between the
// braces, empty when there are none.
func sumSeries(r io.Reader, match func(name, labels string) bool) float64 {
	var total float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, labels, value, ok := parseSample(sc.Text())
		if ok && match(name, labels) {
			total += value
		}
	}
	return total
}

// parseSample splits one text-format sample line into metric name, label
// text and value. Comments, blank and malformed lines report !ok.
func parseSample(line string) (name, labels string, value float64, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", 0, false
	}
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", 0, false
		}
		name, labels, rest = line[:i], line[i+1:j], line[j+1:]
	} else {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return "", "", 0, false
		}
		name, rest = line[:i], line[i:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "", "", 0, false
	}
	return name, labels, v, true
}

// label returns the value of key in a label text like `a="x",b="y"`.
func label(labels, key string) string {
	for labels != "" {
		eq := strings.IndexByte(labels, '=')
		if eq < 0 || eq+1 >= len(labels) || labels[eq+1] != '"' {
			return ""
		}
		k := strings.TrimSpace(labels[:eq])
		v, n := quoted(labels[eq+1:])
		if n < 0 {
			return ""
		}
		if k == key {
			return v
		}
		labels = strings.TrimLeft(labels[eq+1+n:], ", ")
	}
	return ""
}

// quoted reads a double-quoted, backslash-escaped string at the start of s
// and returns its value and the bytes consumed (-1 when unterminated).
func quoted(s string) (string, int) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				if s[i] == 'n' {
					b.WriteByte('\n')
				} else {
					b.WriteByte(s[i])
				}
			}
		case '"':
			return b.String(), i + 1
		default:
			b.WriteByte(c)
		}
	}
	return "", -1
}

// histogramSum returns the _sum series of histogram name over all its
// label sets, summed over urls.
func (s scraper) histogramSum(urls []string, name string) float64 {
	return s.sum(urls, func(n, _ string) bool { return n == name+"_sum" })
}
