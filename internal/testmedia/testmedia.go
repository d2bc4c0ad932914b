// Package testmedia makes small MP4 test inputs with the real ffmpeg binary
// and caches them on disk, so tests of several packages can share them.
//
// Fixtures are built from lavfi sources (testsrc2, sine): nothing is
// downloaded. Each fixture is cached under a name derived from a hash of its
// ffmpeg arguments, in $CLASSMESH_TESTMEDIA_DIR or else in
// os.UserCacheDir()/classmesh-testmedia. Files are written to a temporary
// name and renamed into place, so parallel tests and processes never see a
// partial file.
//
// When ffmpeg is missing, Make skips the test, unless the environment
// variable CI is "true", in which case it fails it.
package testmedia

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// formatVersion is mixed into the cache key; bump it when the way fixtures
// are written changes.
const formatVersion = "testmedia-v1"

// genTimeout bounds one ffmpeg run.
const genTimeout = 2 * time.Minute

// Building blocks of the fixture command lines.
const (
	video10 = "-f lavfi -i testsrc2=size=320x180:rate=30:duration=10"
	audio10 = "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=10"
	x264    = "-c:v libx264 -preset veryfast -bf 2 -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -threads 1"
	aac     = "-c:a aac -b:a 64k"
	common  = "-map_metadata -1 -fflags +bitexact"
)

// Fixture describes one named input.
type Fixture struct {
	// Name is the name passed to Make.
	Name string
	// Args are the ffmpeg arguments between the global options and the
	// output file.
	Args []string
	// Check, when not nil, validates the generated file (with ffprobe).
	Check func(path string) error
}

// fixtures returns every named fixture.
func fixtures() map[string]Fixture {
	list := []Fixture{
		{Name: "h264-aac", Args: split(video10, audio10, x264, aac)},
		{Name: "faststart", Args: split(video10, audio10, x264, aac, "-movflags +faststart")},
		{Name: "fragmented", Args: split(video10, audio10, x264, aac, "-movflags frag_keyframe+empty_moov+default_base_moof")},
		{Name: "audio-only", Args: split(audio10, aac)},
		{Name: "video-only", Args: split(video10, x264)},
		{Name: "hevc", Args: split(video10, "-c:v libx265 -preset ultrafast -tag:v hvc1 -pix_fmt yuv420p",
			"-x265-params log-level=error:pools=1:frame-threads=1:keyint=60:min-keyint=60:scenecut=0")},
		{Name: "gop10", Args: split("-f lavfi -i testsrc2=size=320x180:rate=15:duration=20",
			"-f lavfi -i sine=frequency=440:sample_rate=48000:duration=20",
			"-c:v libx264 -preset veryfast -bf 2 -g 150 -keyint_min 150 -sc_threshold 0 -pix_fmt yuv420p -threads 1", aac)},
		{Name: "editlist", Args: split(video10, audio10, x264, aac, "-use_editlist 1"), Check: hasEditList},
		{Name: "two-audio", Args: split(video10, audio10, "-f lavfi -i sine=frequency=880:sample_rate=44100:duration=10",
			"-map 0:v -map 1:a -map 2:a", x264, aac,
			"-metadata:s:a:0 language=eng -metadata:s:a:1 language=fra")},
		{Name: "no-bframes", Args: split(video10, audio10, strings.Replace(x264, "-bf 2", "-bf 0", 1), aac)},
	}
	m := make(map[string]Fixture, len(list))
	for _, f := range list {
		f.Args = append(f.Args, split(common)...)
		m[f.Name] = f
	}
	return m
}

// split joins command-line fragments into one argument list.
func split(parts ...string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, strings.Fields(p)...)
	}
	return out
}

// Names returns the names of every fixture, sorted.
func Names() []string {
	var names []string
	for n := range fixtures() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the fixture called name.
func Lookup(name string) (Fixture, bool) {
	f, ok := fixtures()[name]
	return f, ok
}

// FFmpegAvailable reports whether ffmpeg is on PATH.
func FFmpegAvailable() bool {
	_, err := exec.LookPath("ffmpeg")
	return err == nil
}

// FFprobeAvailable reports whether ffprobe is on PATH.
func FFprobeAvailable() bool {
	_, err := exec.LookPath("ffprobe")
	return err == nil
}

// RequireFFmpeg skips t when ffmpeg or ffprobe is missing, or fails it when
// the environment variable CI is "true".
func RequireFFmpeg(t testing.TB) {
	t.Helper()
	if FFmpegAvailable() && FFprobeAvailable() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("testmedia: ffmpeg/ffprobe not found on PATH (CI=true)")
	}
	t.Skip("testmedia: ffmpeg/ffprobe not found on PATH")
}

// CacheDir returns the directory fixtures are cached in.
func CacheDir() (string, error) {
	if d := os.Getenv("CLASSMESH_TESTMEDIA_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "classmesh-testmedia"), nil
}

// genMu serialises generation inside one process so that parallel tests
// asking for the same fixture do not run ffmpeg twice; other processes are
// kept safe by the rename.
var genMu sync.Mutex

// Make returns the path of the named fixture, generating it on first use.
// It fails t for unknown names or when ffmpeg fails.
func Make(t testing.TB, name string) string {
	t.Helper()
	fx, ok := Lookup(name)
	if !ok {
		t.Fatalf("testmedia: unknown fixture %q (have %v)", name, Names())
	}
	RequireFFmpeg(t)
	path, err := build(fx)
	if err != nil {
		t.Fatalf("testmedia: %s: %v", name, err)
	}
	return path
}

// build generates fx unless it is cached and returns its path.
func build(fx Fixture) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(formatVersion + "\x00" + strings.Join(fx.Args, "\x00")))
	path := filepath.Join(dir, fx.Name+"-"+hex.EncodeToString(sum[:8])+".mp4")
	genMu.Lock()
	defer genMu.Unlock()
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, fx.Name+"-*.tmp.mp4")
	if err != nil {
		return "", err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	if err := runFFmpeg(fx.Args, tmpName); err != nil {
		return "", err
	}
	if fx.Check != nil {
		if err := fx.Check(tmpName); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		return "", err
	}
	return path, nil
}

// runFFmpeg writes an MP4 to out.
func runFFmpeg(args []string, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), genTimeout)
	defer cancel()
	full := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)
	full = append(full, "-f", "mp4", out)
	cmd := exec.CommandContext(ctx, "ffmpeg", full...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg %s: %w: %s", strings.Join(full, " "), err, msg)
	}
	return nil
}

// hasEditList checks with ffprobe's box trace that the file has an elst.
func hasEditList(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), genTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "trace", "-i", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffprobe: %w: %s", err, out)
	}
	if !strings.Contains(string(out), "type:'elst'") {
		return fmt.Errorf("no elst box in %s", path)
	}
	return nil
}
