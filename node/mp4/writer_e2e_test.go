package mp4

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// End-to-end test: ffmpeg makes a progressive MP4, a test-only parser (not
// the package reader, which is developed separately) turns its moov into
// Tracks, the writer repackages each track as CMAF (init + segments cut at
// keyframes), and ffprobe/ffmpeg check the result.

// wtNeedFFmpeg skips the test when ffmpeg or ffprobe is missing, unless
// CI=true, in which case it fails.
func wtNeedFFmpeg(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required when CI=true: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

func wtRun(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s %v wrote to stderr:\n%s", name, args, stderr.Bytes())
	}
	return out
}

func TestWriterEndToEnd(t *testing.T) {
	wtNeedFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	wtRun(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
		"-f", "lavfi", "-i", "sine", "-t", "4", "-c:v", "libx264", "-bf", "2", "-g", "50",
		"-c:a", "aac", src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tracks := wtParseMoov(t, data)
	if len(tracks) != 2 {
		t.Fatalf("parsed %d tracks, want 2", len(tracks))
	}
	for _, tr := range tracks {
		t.Run(tr.Kind.String(), func(t *testing.T) {
			out := filepath.Join(dir, tr.Kind.String()+".mp4")
			nseg := wtPackage(t, data, tr, out)
			if tr.Kind == KindVideo && nseg < 2 {
				t.Errorf("only %d video segments, want at least 2", nseg)
			}
			wtCheckPackaged(t, src, out, tr)
		})
	}
}

// wtPackage writes the init segment and media segments of tr into out
// (concatenated) and returns the number of segments. Video is cut at every
// keyframe, audio every 94 frames (about 2 s).
func wtPackage(t *testing.T, src []byte, tr *Track, out string) int {
	t.Helper()
	buf := AppendInit(nil, tr)
	seq := uint32(0)
	for start := 0; start < len(tr.Samples); {
		end := start + 1
		for end < len(tr.Samples) && !wtCut(tr, start, end) {
			end++
		}
		seq++
		samples := tr.Samples[start:end]
		before := len(buf)
		buf = AppendSegmentHeader(buf, seq, tr, samples)
		if len(buf)-before != SegmentHeaderSize(tr, samples) {
			t.Fatalf("segment %d: SegmentHeaderSize disagrees", seq)
		}
		for _, s := range samples {
			buf = append(buf, src[s.Offset:s.Offset+int64(s.Size)]...)
		}
		start = end
	}
	if err := os.WriteFile(out, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return int(seq)
}

func wtCut(tr *Track, start, i int) bool {
	if tr.Kind == KindVideo {
		return tr.Samples[i].Sync
	}
	return i-start >= 94
}

type wtProbe struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		NbReadFrames string `json:"nb_read_frames"`
		Duration     string `json:"duration"`
		StartTime    string `json:"start_time"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
	} `json:"streams"`
}

func wtFFprobe(t *testing.T, file, stream string) (frames int, dur, start float64) {
	t.Helper()
	out := wtRun(t, "ffprobe", "-v", "error", "-count_frames", "-select_streams", stream,
		"-show_streams", "-of", "json", file)
	var p wtProbe
	if err := json.Unmarshal(out, &p); err != nil || len(p.Streams) != 1 {
		t.Fatalf("ffprobe %s: %v, %d streams", file, err, len(p.Streams))
	}
	s := p.Streams[0]
	frames, err1 := strconv.Atoi(s.NbReadFrames)
	dur, err2 := strconv.ParseFloat(s.Duration, 64)
	start, err3 := strconv.ParseFloat(s.StartTime, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("ffprobe %s: bad numbers %+v", file, s)
	}
	return frames, dur, start
}

// wtCheckPackaged compares the packaged track with the source and with
// ffmpeg's own CMAF muxing of the same stream (trun version 1 composition
// offsets, no edit list), which must give the very same packets.
func wtCheckPackaged(t *testing.T, src, out string, tr *Track) {
	t.Helper()
	stream := "v:0"
	if tr.Kind == KindAudio {
		stream = "a:0"
	}
	ref := filepath.Join(filepath.Dir(out), "ref_"+tr.Kind.String()+".mp4")
	wtRun(t, "ffmpeg", "-v", "error", "-i", src, "-map", "0:"+stream, "-c", "copy",
		"-movflags", "+cmaf+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets",
		"-use_editlist", "0", ref)

	frames, dur, start := wtFFprobe(t, out, "0")
	refFrames, refDur, refStart := wtFFprobe(t, ref, "0")
	if frames != refFrames || dur != refDur || start != refStart {
		t.Errorf("frames/duration/start %d %v %v, ffmpeg's CMAF gives %d %v %v",
			frames, dur, start, refFrames, refDur, refStart)
	}
	if got, want := wtPackets(t, out), wtPackets(t, ref); !bytes.Equal(got, want) {
		t.Errorf("packets differ from ffmpeg's CMAF muxing:\n%.400s\nwant\n%.400s", got, want)
	}
	srcFrames, srcDur, _ := wtFFprobe(t, src, stream)
	if tr.Kind == KindVideo {
		// The edit list is folded into trun: same frames, same timeline.
		if frames != srcFrames || frames != len(tr.Samples) || !wtNear(dur, srcDur) {
			t.Errorf("%d frames, %v s; source %d frames, %v s; %d samples",
				frames, dur, srcFrames, srcDur, len(tr.Samples))
		}
	} else {
		// AAC priming is not trimmed: every sample is presented.
		want := float64(tr.Duration()) / float64(tr.Timescale)
		if frames != len(tr.Samples) || !wtNear(dur, want) {
			t.Errorf("%d frames, %v s; %d samples, %v s", frames, dur, len(tr.Samples), want)
		}
	}
	if errs := wtRun(t, "ffmpeg", "-v", "error", "-i", out, "-f", "null", "-"); len(errs) > 0 {
		t.Errorf("ffmpeg decode output: %s", errs)
	}
}

// wtNear compares ffprobe's 6-decimal seconds.
func wtNear(a, b float64) bool { return a-b < 2e-6 && b-a < 2e-6 }

// wtPackets lists pts, dts, size and flags of every packet of file.
func wtPackets(t *testing.T, file string) []byte {
	t.Helper()
	return wtRun(t, "ffprobe", "-v", "error", "-show_entries", "packet=pts,dts,size,flags",
		"-of", "compact", file)
}

// The test-only moov parser: just enough of ISO/IEC 14496-12 to rebuild the
// sample tables of an ffmpeg progressive file.

// wtEach calls fn with the body of every box of type typ directly in b.
func wtEach(b []byte, typ string, fn func(body []byte)) {
	for pos := 0; pos < len(b); {
		bt, hdr, size, ok := wtHeader(b[pos:])
		if !ok || pos+size > len(b) {
			return
		}
		if bt == typ {
			fn(b[pos+hdr : pos+size])
		}
		pos += size
	}
}

func wtParseMoov(t *testing.T, data []byte) []*Track {
	t.Helper()
	moov := wtFind(data, "moov")
	if moov == nil {
		t.Fatal("source has no moov")
	}
	var tracks []*Track
	wtEach(moov, "trak", func(trak []byte) {
		if tr := wtParseTrak(t, trak); tr != nil {
			tracks = append(tracks, tr)
		}
	})
	return tracks
}

func wtParseTrak(t *testing.T, trak []byte) *Track {
	t.Helper()
	tr := &Track{}
	switch string(wtFind(trak, "mdia", "hdlr")[8:12]) {
	case "vide":
		tr.Kind = KindVideo
	case "soun":
		tr.Kind = KindAudio
	default:
		return nil
	}
	be := binary.BigEndian
	tkhd, mdhd := wtFind(trak, "tkhd"), wtFind(trak, "mdia", "mdhd")
	if tkhd[0] == 1 {
		tr.ID = be.Uint32(tkhd[20:])
	} else {
		tr.ID = be.Uint32(tkhd[12:])
	}
	langAt := 20
	if mdhd[0] == 1 {
		langAt = 32
	}
	tr.Timescale = be.Uint32(mdhd[langAt-8:])
	lang := be.Uint16(mdhd[langAt:])
	tr.Language = string([]byte{byte(lang>>10&31) + 0x60, byte(lang>>5&31) + 0x60, byte(lang&31) + 0x60})
	tr.EditOffset = wtEditOffset(wtFind(trak, "edts", "elst"))

	stbl := wtFind(trak, "mdia", "minf", "stbl")
	stsd := wtFind(stbl, "stsd")
	_, _, entrySize, _ := wtHeader(stsd[8:])
	tr.SampleEntry = stsd[8 : 8+entrySize]
	tr.Format = string(tr.SampleEntry[4:8])
	if tr.Kind == KindVideo {
		tr.Width, tr.Height = be.Uint16(tr.SampleEntry[32:]), be.Uint16(tr.SampleEntry[34:])
	}
	tr.Samples = wtSamples(t, stbl)
	return tr
}

// wtEditOffset returns the media_time of the first non-empty elst entry.
func wtEditOffset(elst []byte) int64 {
	if elst == nil {
		return 0
	}
	be := binary.BigEndian
	n, pos := int(be.Uint32(elst[4:])), 8
	for range n {
		var mt int64
		if elst[0] == 1 {
			mt, pos = int64(be.Uint64(elst[pos+8:])), pos+20
		} else {
			mt, pos = int64(int32(be.Uint32(elst[pos+4:]))), pos+12
		}
		if mt != -1 {
			return mt
		}
	}
	return 0
}

// wtEntries decodes the (u32, u32) entries of stts, ctts or stsc-like tables
// with the given entry size.
func wtEntries(b []byte, entrySize int) [][]uint32 {
	if b == nil {
		return nil
	}
	n := int(binary.BigEndian.Uint32(b[4:]))
	out := make([][]uint32, n)
	for i := range out {
		e := b[8+i*entrySize : 8+(i+1)*entrySize]
		for j := 0; j < entrySize; j += 4 {
			out[i] = append(out[i], binary.BigEndian.Uint32(e[j:]))
		}
	}
	return out
}

// wtSamples rebuilds the sample list from stts, ctts, stss, stsz, stsc and
// stco/co64.
func wtSamples(t *testing.T, stbl []byte) []Sample {
	t.Helper()
	be := binary.BigEndian
	stsz := wtFind(stbl, "stsz")
	n := int(be.Uint32(stsz[8:]))
	samples := make([]Sample, n)
	for i := range samples {
		samples[i].Size = be.Uint32(stsz[4:])
		if samples[i].Size == 0 {
			samples[i].Size = be.Uint32(stsz[12+4*i:])
		}
		samples[i].Sync = wtFind(stbl, "stss") == nil
	}
	var dts int64
	i := 0
	for _, e := range wtEntries(wtFind(stbl, "stts"), 8) {
		for range e[0] {
			samples[i].DTS, samples[i].Duration = dts, e[1]
			dts += int64(e[1])
			i++
		}
	}
	i = 0
	for _, e := range wtEntries(wtFind(stbl, "ctts"), 8) {
		for range e[0] {
			samples[i].CTO = int32(e[1])
			i++
		}
	}
	for _, e := range wtEntries(wtFind(stbl, "stss"), 4) {
		samples[e[0]-1].Sync = true
	}
	wtOffsets(stbl, samples)
	return samples
}

// wtOffsets fills the sample offsets from stsc and stco/co64.
func wtOffsets(stbl []byte, samples []Sample) {
	var chunks []int64
	for _, e := range wtEntries(wtFind(stbl, "stco"), 4) {
		chunks = append(chunks, int64(e[0]))
	}
	for _, e := range wtEntries(wtFind(stbl, "co64"), 8) {
		chunks = append(chunks, int64(e[0])<<32|int64(e[1]))
	}
	stsc := wtEntries(wtFind(stbl, "stsc"), 12)
	s := 0
	for c := range chunks {
		per := 0
		for _, e := range stsc {
			if int(e[0]) <= c+1 {
				per = int(e[1])
			}
		}
		off := chunks[c]
		for k := 0; k < per && s < len(samples); k++ {
			samples[s].Offset = off
			off += int64(samples[s].Size)
			s++
		}
	}
}
