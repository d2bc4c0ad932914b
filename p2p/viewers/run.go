package viewers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/peer"
)

// runner is shared by the viewers of one Run.
type runner struct {
	cfg      Config
	log      *slog.Logger
	mediaURL *url.URL
	media    *Media // first load
	live     bool
	variant  Variant
}

// Run emulates cfg.Peers viewers of cfg.URL for cfg.Duration (or until a
// VOD ends) and reports what they saw.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &runner{cfg: cfg, log: cfg.Logger}
	if err := r.choose(ctx); err != nil {
		return nil, err
	}
	api, err := peer.NewAPI(apiConfigFor(r.mediaURL.Hostname()))
	if err != nil {
		return nil, err
	}
	viewers := make([]*viewer, cfg.Peers)
	shared := peer.NewInterner()
	for i := range viewers {
		p, err := peer.New(r.peerConfig(i, api, shared))
		if err != nil {
			closeAll(viewers[:i])
			return nil, err
		}
		viewers[i] = &viewer{r: r, p: p}
	}
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for i, v := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.JoinSpread > 0 {
				sleep(rctx, time.Duration(int64(cfg.JoinSpread)*int64(i)/int64(cfg.Peers)))
			}
			if rctx.Err() == nil {
				v.run(rctx)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	closeAll(viewers)
	return r.report(viewers, elapsed), nil
}

// closeAll closes the peers, a few at a time.
func closeAll(vs []*viewer) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, v := range vs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = v.p.Close()
		}()
	}
	wg.Wait()
}

func (r *runner) peerConfig(i int, api *webrtc.API, shared *peer.Interner) peer.Config {
	c := peer.DefaultConfig()
	if r.cfg.P2P {
		c.TrackerURL = r.cfg.TrackerURL
	}
	c.MediaURL = r.mediaURL.String()
	c.Malicious = i < r.cfg.Malicious
	c.DownlinkBitsPerSec = r.cfg.DownlinkBitsPerSec
	c.UplinkBitsPerSec = r.cfg.UplinkBitsPerSec
	c.StoreBytes = r.cfg.StoreBytes
	c.API = api
	c.Interner = shared
	c.HTTPClient = r.cfg.HTTPClient
	c.Logger = r.log.With("viewer", i)
	return c
}

// apiConfigFor gathers loopback candidates only when the edge is on this
// machine's loopback (everyone is local then); otherwise every interface.
func apiConfigFor(host string) peer.APIConfig {
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 || !ips[0].IsLoopback() {
		return peer.APIConfig{}
	}
	var names []string
	ifs, _ := net.Interfaces()
	for _, it := range ifs {
		if it.Flags&net.FlagLoopback != 0 {
			names = append(names, it.Name)
		}
	}
	return peer.APIConfig{Loopback: true, Interfaces: names}
}

// choose loads cfg.URL and picks the media playlist to play.
func (r *runner) choose(ctx context.Context) error {
	u, err := url.Parse(r.cfg.URL)
	if err != nil {
		return err
	}
	pl, err := r.load(ctx, u)
	if err != nil {
		return err
	}
	if pl.Media == nil {
		v, err := pickVariant(pl.Variants, r.cfg.Rendition, r.cfg.DownlinkBitsPerSec)
		if err != nil {
			return err
		}
		r.variant = v
		ref, err := url.Parse(v.URI)
		if err != nil {
			return fmt.Errorf("%w: variant URI %q", ErrPlaylist, v.URI)
		}
		u = u.ResolveReference(ref)
		if pl, err = r.load(ctx, u); err != nil {
			return err
		}
		if pl.Media == nil {
			return fmt.Errorf("%w: variant %s is not a media playlist", ErrPlaylist, v.Name)
		}
	} else {
		r.variant = Variant{URI: u.String(), Name: renditionName(u.Path)}
	}
	r.mediaURL, r.media = u, pl.Media
	r.live = !pl.Media.Ended
	if len(pl.Media.Segments) == 0 && pl.Media.Ended {
		return fmt.Errorf("%w: no segments", ErrPlaylist)
	}
	return nil
}

// pickVariant: by name, else the highest bandwidth within the downlink
// cap (the lowest if none fits), else the highest.
func pickVariant(vs []Variant, name string, downlink int64) (Variant, error) {
	if name != "" {
		for _, v := range vs {
			if v.Name == name {
				return v, nil
			}
		}
		return Variant{}, fmt.Errorf("swarm: no rendition %q", name)
	}
	sorted := append([]Variant(nil), vs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Bandwidth < sorted[j].Bandwidth })
	best := sorted[len(sorted)-1]
	if downlink > 0 {
		best = sorted[0]
		for _, v := range sorted {
			if v.Bandwidth <= downlink {
				best = v
			}
		}
	}
	return best, nil
}

func (r *runner) loadMedia(ctx context.Context) (*Media, error) {
	pl, err := r.load(ctx, r.mediaURL)
	if err != nil {
		return nil, err
	}
	if pl.Media == nil {
		return nil, fmt.Errorf("%w: not a media playlist", ErrPlaylist)
	}
	return pl.Media, nil
}

func (r *runner) load(ctx context.Context, u *url.URL) (*Playlist, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("swarm: GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPlaylistBytes+1))
	if err != nil {
		return nil, fmt.Errorf("swarm: GET %s: %w", u, err)
	}
	return ParsePlaylist(b)
}

func (r *runner) reloadEvery() time.Duration {
	d := time.Duration(r.media.TargetDuration * float64(time.Second))
	return max(d/2, time.Second)
}
