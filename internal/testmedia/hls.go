package testmedia

import (
	"fmt"
	"os"
	"os/exec"
)

// WriteHLSRendition encodes with ffmpeg a 20 s, 320x180 H.264 test pattern
// as one fMP4 HLS rendition with 2 s segments into dir (created if
// missing): media.m3u8, its init segment and seg-0.m4s … seg-9.m4s, named
// like a classmesh edge's segments. Peer tests serve it as a rendition.
func WriteHLSRendition(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
		"-c:v", "libx264", "-g", "50", "-t", "20", "-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2",
		"-hls_playlist_type", "vod", "-hls_segment_filename", "seg-%d.m4s", "media.m3u8")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return nil
}
