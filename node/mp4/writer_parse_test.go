package mp4

import (
	"encoding/binary"
	"testing"
)

// Test-only box walking for the writer tests; independent of the reader.

// wtContainers maps container box types to the bytes between their header
// and their first child (full box header and entry count for stsd/dref).
var wtContainers = map[string]int{
	"moov": 0, "trak": 0, "mdia": 0, "minf": 0, "dinf": 0, "stbl": 0,
	"mvex": 0, "moof": 0, "traf": 0, "stsd": 8, "dref": 8,
}

// wtCheckBoxes walks the boxes of b and fails unless every size field is
// consistent: children exactly fill their parent, and the top-level boxes
// fill total bytes (the last one, mdat, may extend past b by its payload).
func wtCheckBoxes(t *testing.T, b []byte, total int) {
	t.Helper()
	end := wtWalk(t, b, "", 0, true)
	if end != total {
		t.Errorf("top-level boxes span %d bytes, want %d", end, total)
	}
}

// wtWalk checks the boxes in b and returns the byte count they declare.
// With top set, the last box may be an mdat larger than what is left.
func wtWalk(t *testing.T, b []byte, path string, depth int, top bool) int {
	t.Helper()
	pos := 0
	for pos < len(b) {
		typ, hdr, size, ok := wtHeader(b[pos:])
		if !ok {
			t.Errorf("%s: bad box header at %d", path, pos)
			return pos
		}
		if pos+size > len(b) {
			if top && typ == "mdat" {
				return pos + size
			}
			t.Errorf("%s/%s: size %d overruns its parent at %d", path, typ, size, pos)
			return pos
		}
		if skip, isContainer := wtContainers[typ]; isContainer && depth < 16 {
			body := b[pos+hdr : pos+size]
			if len(body) < skip {
				t.Errorf("%s/%s: too short", path, typ)
			} else {
				wtWalk(t, body[skip:], path+"/"+typ, depth+1, false)
			}
		}
		pos += size
	}
	return pos
}

// wtHeader decodes a box header (32-bit or 64-bit size).
func wtHeader(b []byte) (typ string, hdr, size int, ok bool) {
	if len(b) < 8 {
		return "", 0, 0, false
	}
	size, hdr = int(binary.BigEndian.Uint32(b)), 8
	if size == 1 {
		if len(b) < 16 {
			return "", 0, 0, false
		}
		size, hdr = int(binary.BigEndian.Uint64(b[8:])), 16
	}
	if size < hdr {
		return "", 0, 0, false
	}
	return string(b[4:8]), hdr, size, true
}

// wtFind returns the body of the first box at path (e.g. "moof/traf/trun")
// inside b, or nil.
func wtFind(b []byte, path ...string) []byte {
	for len(path) > 0 {
		var found []byte
		for pos := 0; pos < len(b); {
			typ, hdr, size, ok := wtHeader(b[pos:])
			if !ok || pos+size > len(b) {
				break
			}
			if typ == path[0] {
				found = b[pos+hdr : pos+size]
				break
			}
			pos += size
		}
		if found == nil {
			return nil
		}
		b, path = found, path[1:]
	}
	return b
}

// wtSample is what trun says about one sample after applying defaults.
type wtSample struct {
	duration, size uint32
	cto            int32
	sync           bool
}

// wtSegment is a decoded segment header.
type wtSegment struct {
	moofStart  int
	seq        uint32
	trackID    uint32
	baseTime   uint64
	dataOffset int
	samples    []wtSample
}

// wtParseSegment decodes styp+moof+mdat header as written by the writer.
func wtParseSegment(t *testing.T, b []byte) wtSegment {
	t.Helper()
	var seg wtSegment
	if string(b[4:8]) != "styp" {
		t.Fatalf("segment starts with %q", b[4:8])
	}
	seg.moofStart = int(binary.BigEndian.Uint32(b))
	mfhd, tfhd := wtFind(b, "moof", "mfhd"), wtFind(b, "moof", "traf", "tfhd")
	tfdt, trun := wtFind(b, "moof", "traf", "tfdt"), wtFind(b, "moof", "traf", "trun")
	if mfhd == nil || tfhd == nil || tfdt == nil || trun == nil {
		t.Fatal("missing mfhd, tfhd, tfdt or trun")
	}
	seg.seq = binary.BigEndian.Uint32(mfhd[4:])
	if tfdt[0] != 1 {
		t.Errorf("tfdt version %d, want 1", tfdt[0])
	}
	seg.baseTime = binary.BigEndian.Uint64(tfdt[4:])
	tfFlags := binary.BigEndian.Uint32(tfhd) & 0xFFFFFF
	seg.trackID = binary.BigEndian.Uint32(tfhd[4:])
	if tfFlags&^uint32(0x020020) != 0 || tfFlags&0x020000 == 0 {
		t.Errorf("tfhd flags %#x", tfFlags)
	}
	var defFlags uint32
	if tfFlags&0x20 != 0 {
		defFlags = binary.BigEndian.Uint32(tfhd[8:])
	}
	seg.dataOffset, seg.samples = wtParseTrun(t, trun, defFlags)
	return seg
}

// wtParseTrun decodes a trun body with durations and sizes present.
func wtParseTrun(t *testing.T, trun []byte, defFlags uint32) (int, []wtSample) {
	t.Helper()
	vf := binary.BigEndian.Uint32(trun)
	version, flags := vf>>24, vf&0xFFFFFF
	if version != 1 || flags&0x301 != 0x301 || flags&^uint32(0xF05) != 0 {
		t.Fatalf("trun version %d flags %#x", version, flags)
	}
	n := int(binary.BigEndian.Uint32(trun[4:]))
	dataOffset := int(int32(binary.BigEndian.Uint32(trun[8:])))
	pos := 12
	first := defFlags
	if flags&0x4 != 0 {
		first, pos = binary.BigEndian.Uint32(trun[pos:]), pos+4
	}
	out := make([]wtSample, n)
	for i := range out {
		s := &out[i]
		s.duration, s.size = binary.BigEndian.Uint32(trun[pos:]), binary.BigEndian.Uint32(trun[pos+4:])
		pos += 8
		sf := defFlags
		if i == 0 {
			sf = first
		}
		if flags&0x400 != 0 {
			sf, pos = binary.BigEndian.Uint32(trun[pos:]), pos+4
		}
		if flags&0x800 != 0 {
			s.cto, pos = int32(binary.BigEndian.Uint32(trun[pos:])), pos+4
		}
		s.sync = wtCheckFlags(t, sf)
	}
	if pos != len(trun) {
		t.Errorf("trun has %d bytes, entries end at %d", len(trun), pos)
	}
	return dataOffset, out
}

// wtCheckFlags checks that sf is one of the two flag values the writer
// uses and tells whether it means a sync sample.
func wtCheckFlags(t *testing.T, sf uint32) bool {
	t.Helper()
	switch sf {
	case 0x02000000:
		return true
	case 0x01010000:
		return false
	}
	t.Errorf("unexpected sample flags %#08x", sf)
	return false
}
