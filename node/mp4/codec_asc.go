package mp4

// ASC is the leading part of an AudioSpecificConfig (ISO/IEC 14496-3
// 1.6.2.1), the fields every audio object type shares. It is the one
// AudioSpecificConfig parser of classmesh: the reader takes a track's rate
// and channels from it, ParseAACConfig continues after it, and RTMP checks
// an AAC sequence header with it.
type ASC struct {
	// ObjectType is the first audioObjectType (5 for HE-AAC, 29 for
	// HE-AACv2), as it appears in the codecs value "mp4a.40.<ObjectType>".
	ObjectType int
	// SampleRate is the core sampling rate. An escaped (explicit)
	// frequency is returned as coded, so it may be 0.
	SampleRate int
	// OutputRate is the decoder's output rate: the SBR extension rate for
	// object types 5 and 29, else SampleRate.
	OutputRate int
	// ChannelConfig is channelConfiguration as coded: 0 means a program
	// config element carries the layout; 8 to 10 and 15 are reserved.
	ChannelConfig int
	// Channels is the output channel count (a mono HE-AACv2 core decodes
	// to stereo); 0 when ChannelConfig is 0 or reserved.
	Channels int
}

// ParseASC decodes the leading fields of an AudioSpecificConfig. A
// truncated config, audioObjectType 0 and a reserved sampling frequency
// index (core or SBR extension) give ErrMalformed; trailing fields are not
// read.
func ParseASC(b []byte) (ASC, error) {
	return readASC(&bitReader{b: b}, "AudioSpecificConfig")
}

// readASC reads the leading fields from r, leaving r after them (after the
// SBR extension frequency for object types 5 and 29).
func readASC(r *bitReader, path string) (ASC, error) {
	var a ASC
	a.ObjectType = r.objectType()
	rate, ok := r.frequency()
	if !ok {
		return a, malformed(path, "reserved samplingFrequencyIndex")
	}
	a.ChannelConfig = int(r.read(4))
	if r.bad {
		return a, malformed(path, "truncated (%d bytes)", len(r.b))
	}
	if a.ObjectType == 0 {
		return a, malformed(path, "audioObjectType 0")
	}
	a.SampleRate, a.OutputRate = int(rate), int(rate)
	a.Channels = int(channelCount(uint32(a.ChannelConfig)))
	if a.ObjectType == 5 || a.ObjectType == 29 {
		ext, ok := r.frequency()
		if !ok || r.bad {
			return a, malformed(path, "bad SBR extension sampling frequency")
		}
		a.OutputRate = int(ext)
		if a.ObjectType == 29 && a.Channels == 1 {
			a.Channels = 2
		}
	}
	return a, nil
}

// bitReader reads MSB-first bit fields.
type bitReader struct {
	b   []byte
	pos int // in bits
	bad bool
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		if r.pos >= len(r.b)*8 {
			r.bad = true
			return 0
		}
		bit := r.b[r.pos/8] >> (7 - r.pos%8) & 1
		v = v<<1 | uint32(bit)
		r.pos++
	}
	return v
}

// objectType reads an audioObjectType with its escape value 31.
func (r *bitReader) objectType() int {
	aot := int(r.read(5))
	if aot == 31 {
		aot = 32 + int(r.read(6))
	}
	return aot
}

// frequency reads a samplingFrequencyIndex with its escape value 0xF.
func (r *bitReader) frequency() (uint32, bool) {
	rates := [...]uint32{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	idx := r.read(4)
	if idx == 0xF {
		return r.read(24), true
	}
	if int(idx) >= len(rates) {
		return 0, false
	}
	return rates[idx], true
}

// channelCount maps a channelConfiguration to a channel count, 0 for a
// program config element or a reserved value.
func channelCount(cfg uint32) uint16 {
	switch {
	case cfg <= 6:
		return uint16(cfg)
	case cfg == 7, cfg == 12, cfg == 14:
		return 8
	case cfg == 11:
		return 7
	case cfg == 13:
		return 24
	}
	return 0
}
