package testmedia

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"testing"
)

// Stream is the part of an ffprobe stream report tests compare against.
type Stream struct {
	Index         int               `json:"index"`
	CodecName     string            `json:"codec_name"`
	CodecType     string            `json:"codec_type"`
	CodecTag      string            `json:"codec_tag_string"`
	Profile       string            `json:"profile"`
	Level         int               `json:"level"`
	Width         int               `json:"width"`
	Height        int               `json:"height"`
	SampleRate    string            `json:"sample_rate"`
	Channels      int               `json:"channels"`
	TimeBase      string            `json:"time_base"`
	DurationTS    int64             `json:"duration_ts"`
	NbReadPackets string            `json:"nb_read_packets"`
	Tags          map[string]string `json:"tags"`
}

// Packets returns nb_read_packets as a number (-1 when absent).
func (s Stream) Packets() int {
	n, err := strconv.Atoi(s.NbReadPackets)
	if err != nil {
		return -1
	}
	return n
}

// Packet is one ffprobe packet. Pos and Size are strings in ffprobe's JSON.
type Packet struct {
	StreamIndex int    `json:"stream_index"`
	PTS         int64  `json:"pts"`
	DTS         int64  `json:"dts"`
	Duration    int64  `json:"duration"`
	Size        string `json:"size"`
	Pos         string `json:"pos"`
	Flags       string `json:"flags"`
}

// Keyframe reports whether ffprobe flagged the packet as a keyframe.
func (p Packet) Keyframe() bool { return len(p.Flags) > 0 && p.Flags[0] == 'K' }

// SizeInt returns the packet size.
func (p Packet) SizeInt() int64 { n, _ := strconv.ParseInt(p.Size, 10, 64); return n }

// PosInt returns the packet's byte position in the file (-1 when unknown).
func (p Packet) PosInt() int64 {
	n, err := strconv.ParseInt(p.Pos, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Probe is ffprobe's view of a file.
type Probe struct {
	Streams []Stream `json:"streams"`
	Packets []Packet `json:"packets"`
}

// StreamPackets returns the packets of one stream in file order.
func (p *Probe) StreamPackets(index int) []Packet {
	var out []Packet
	for _, pk := range p.Packets {
		if pk.StreamIndex == index {
			out = append(out, pk)
		}
	}
	return out
}

// ProbeFile runs `ffprobe -show_streams -count_packets -show_packets -of
// json` on path. It skips or fails t like Make when ffprobe is missing.
func ProbeFile(t testing.TB, path string) *Probe {
	t.Helper()
	RequireFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), genTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_streams", "-count_packets",
		"-show_packets", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("testmedia: ffprobe %s: %v", path, err)
	}
	var p Probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("testmedia: ffprobe %s: decode JSON: %v", path, err)
	}
	return &p
}
