package mp4

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Sizes of the fixed parts of sample entries (ISO/IEC 14496-12 12.1, 12.2).
const (
	visualEntryLen = 78
	audioEntryLen  = 28
)

// parseStsd reads the first sample entry into t. A non-empty reason means
// the codec is not supported and the track should be skipped.
func parseStsd(t *Track, body []byte, path string) (string, error) {
	c := newCursor(body, path)
	c.fullBox()
	n := c.u32()
	if c.err != nil {
		return "", c.err
	}
	if n == 0 {
		return "", malformed(path, "no sample entry")
	}
	var entry box
	err := eachChild(body[c.pos:], path, func(bx box) error {
		if entry.raw == nil {
			entry = bx
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if entry.raw == nil {
		return "", malformed(path, "entry_count %d but no sample entry", n)
	}
	t.Format = entry.typ
	epath := path + "/" + entry.typ
	switch entry.typ {
	case "avc1", "avc3", "hvc1", "hev1":
		if t.Kind != KindVideo {
			return "", malformed(epath, "video sample entry in a %s track", t.Kind)
		}
		err = parseVisual(t, entry.body, epath)
	case "mp4a":
		if t.Kind != KindAudio {
			return "", malformed(epath, "audio sample entry in a %s track", t.Kind)
		}
		err = parseAudio(t, entry.body, epath)
	case "encv", "enca":
		return fmt.Sprintf("track %d codec %q (encrypted)", t.ID, entry.typ), nil
	default:
		return fmt.Sprintf("track %d codec %q", t.ID, entry.typ), nil
	}
	if err != nil {
		return "", err
	}
	if t.Codec == "" {
		return fmt.Sprintf("track %d codec %q", t.ID, t.Format), nil
	}
	t.SampleEntry = append([]byte(nil), entry.raw...)
	return "", nil
}

// parseVisual reads a VisualSampleEntry and its avcC or hvcC.
func parseVisual(t *Track, b []byte, path string) error {
	if len(b) < visualEntryLen {
		return malformed(path, "visual sample entry is %d bytes, need %d", len(b), visualEntryLen)
	}
	t.Width = binary.BigEndian.Uint16(b[24:])
	t.Height = binary.BigEndian.Uint16(b[26:])
	kids, err := children(b[visualEntryLen:], path)
	if err != nil {
		return err
	}
	if t.Format == "avc1" || t.Format == "avc3" {
		avcC, err := need(kids, "avcC", path)
		if err != nil {
			return err
		}
		t.Codec, err = avcCodec(t.Format, avcC.body, path+"/avcC")
		return err
	}
	hvcC, err := need(kids, "hvcC", path)
	if err != nil {
		return err
	}
	t.Codec, err = hevcCodec(t.Format, hvcC.body, path+"/hvcC")
	return err
}

// avcCodec builds "avc1.PPCCLL" from an AVCDecoderConfigurationRecord.
func avcCodec(format string, b []byte, path string) (string, error) {
	if len(b) < 4 {
		return "", malformed(path, "record is %d bytes, need 4", len(b))
	}
	if b[0] != 1 {
		return "", malformed(path, "configurationVersion %d", b[0])
	}
	return fmt.Sprintf("%s.%02X%02X%02X", format, b[1], b[2], b[3]), nil
}

// hevcCodec builds the ISO/IEC 14496-15 Annex E codecs value from an
// HEVCDecoderConfigurationRecord, e.g. "hvc1.1.6.L93.B0".
func hevcCodec(format string, b []byte, path string) (string, error) {
	if len(b) < 13 {
		return "", malformed(path, "record is %d bytes, need 13", len(b))
	}
	if b[0] != 1 {
		return "", malformed(path, "configurationVersion %d", b[0])
	}
	var sb strings.Builder
	sb.WriteString(format)
	sb.WriteByte('.')
	if space := b[1] >> 6; space > 0 {
		sb.WriteByte('A' + space - 1)
	}
	fmt.Fprintf(&sb, "%d.%X.", b[1]&0x1f, bits.Reverse32(binary.BigEndian.Uint32(b[2:])))
	if b[1]&0x20 != 0 {
		sb.WriteByte('H')
	} else {
		sb.WriteByte('L')
	}
	fmt.Fprintf(&sb, "%d", b[12])
	constraints := b[6:12]
	end := len(constraints)
	for end > 0 && constraints[end-1] == 0 {
		end--
	}
	for _, c := range constraints[:end] {
		fmt.Fprintf(&sb, ".%X", c)
	}
	return sb.String(), nil
}

// parseAudio reads an AudioSampleEntry (including the QuickTime version 1
// and 2 layouts) and its esds.
func parseAudio(t *Track, b []byte, path string) error {
	if len(b) < audioEntryLen {
		return malformed(path, "audio sample entry is %d bytes, need %d", len(b), audioEntryLen)
	}
	t.Channels = binary.BigEndian.Uint16(b[16:])
	t.SampleRate = binary.BigEndian.Uint32(b[24:]) >> 16
	start := audioEntryLen
	switch binary.BigEndian.Uint16(b[8:]) {
	case 1:
		start += 16
	case 2:
		start += 36
		if len(b) >= start {
			rate := math.Float64frombits(binary.BigEndian.Uint64(b[32:]))
			if rate >= 1 && rate < 1<<32 {
				t.SampleRate = uint32(rate)
			}
			if ch := binary.BigEndian.Uint32(b[40:]); ch < 1<<16 {
				t.Channels = uint16(ch)
			}
		}
	}
	if len(b) < start {
		return malformed(path, "audio sample entry is %d bytes, need %d", len(b), start)
	}
	kids, err := children(b[start:], path)
	if err != nil {
		return err
	}
	esds, err := need(kids, "esds", path)
	if err != nil {
		return err
	}
	return parseEsds(t, esds.body, path+"/esds")
}

// Object type indications (ISO/IEC 14496-1 Table 5) accepted in esds.
const (
	otiMPEG4Audio = 0x40
	otiMPEG2AACLC = 0x67
	otiMPEG2Audio = 0x69
	otiMP3        = 0x6B
)

// parseEsds reads the DecoderConfigDescriptor and AudioSpecificConfig.
func parseEsds(t *Track, b []byte, path string) error {
	c := newCursor(b, path)
	c.fullBox()
	if c.err != nil {
		return c.err
	}
	tag, es, err := descriptor(b[c.pos:], path)
	if err != nil {
		return err
	}
	if tag != 3 {
		return malformed(path, "first descriptor tag %d, want ES_Descriptor (3)", tag)
	}
	dc := newCursor(es, path+"/ES_Descriptor")
	dc.skip(2)
	flags := dc.u8()
	if flags&0x80 != 0 {
		dc.skip(2)
	}
	if flags&0x40 != 0 {
		dc.skip(int(dc.u8()))
	}
	if flags&0x20 != 0 {
		dc.skip(2)
	}
	if dc.err != nil {
		return dc.err
	}
	tag, dcd, err := descriptor(es[dc.pos:], path+"/ES_Descriptor")
	if err != nil {
		return err
	}
	if tag != 4 || len(dcd) < 13 {
		return malformed(path, "missing DecoderConfigDescriptor")
	}
	return decoderConfig(t, dcd, path+"/DecoderConfigDescriptor")
}

// decoderConfig sets Codec (and rate and channels for AAC) from a
// DecoderConfigDescriptor body.
func decoderConfig(t *Track, dcd []byte, path string) error {
	switch oti := dcd[0]; oti {
	case otiMPEG2Audio, otiMP3:
		t.Codec = fmt.Sprintf("mp4a.%02X", oti)
		return nil
	case otiMPEG4Audio, otiMPEG2AACLC:
	default:
		return nil // unsupported: Codec stays empty.
	}
	var asc []byte
	if len(dcd) > 13 {
		tag, body, err := descriptor(dcd[13:], path)
		if err != nil {
			return err
		}
		if tag == 5 {
			asc = body
		}
	}
	if dcd[0] == otiMPEG2AACLC {
		t.Codec = "mp4a.67"
		return nil
	}
	if asc == nil {
		return malformed(path, "MPEG-4 audio without AudioSpecificConfig")
	}
	cfg, err := readASC(&bitReader{b: asc}, path+"/AudioSpecificConfig")
	if err != nil {
		return err
	}
	t.Codec = fmt.Sprintf("mp4a.40.%d", cfg.ObjectType)
	if cfg.OutputRate != 0 {
		t.SampleRate = uint32(cfg.OutputRate)
	}
	if cfg.Channels != 0 {
		t.Channels = uint16(cfg.Channels)
	}
	return nil
}

// descriptor reads one ISO/IEC 14496-1 descriptor header (tag and an
// expandable size of up to four bytes) and returns the tag and the body.
func descriptor(b []byte, path string) (uint8, []byte, error) {
	if len(b) < 2 {
		return 0, nil, malformed(path, "descriptor truncated")
	}
	tag := b[0]
	size, i := 0, 1
	for ; i <= 4; i++ {
		if i >= len(b) {
			return 0, nil, malformed(path, "descriptor %d: size truncated", tag)
		}
		size = size<<7 | int(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			break
		}
	}
	if i > 4 {
		return 0, nil, malformed(path, "descriptor %d: size longer than 4 bytes", tag)
	}
	body := b[i+1:]
	if size > len(body) {
		return 0, nil, malformed(path, "descriptor %d: size %d runs past its parent (%d bytes)", tag, size, len(body))
	}
	return tag, body[:size], nil
}
