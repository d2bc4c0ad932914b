package mp4

// ascConfig is what the reader takes from an AudioSpecificConfig
// (ISO/IEC 14496-3 1.6.2.1).
type ascConfig struct {
	// objectType is the first audioObjectType (5 for HE-AAC, 29 for
	// HE-AACv2), as it appears in the codecs string.
	objectType int
	// sampleRate is the output sampling rate (the SBR extension rate for
	// object types 5 and 29); 0 when unknown.
	sampleRate uint32
	// channels is the output channel count; 0 when the configuration is
	// carried in a program config element.
	channels uint16
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

// channelCount maps a channelConfiguration to a channel count.
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

// parseASC decodes the leading fields of an AudioSpecificConfig.
func parseASC(b []byte, path string) (ascConfig, error) {
	r := &bitReader{b: b}
	var cfg ascConfig
	cfg.objectType = r.objectType()
	rate, ok := r.frequency()
	if !ok {
		return cfg, malformed(path, "reserved samplingFrequencyIndex")
	}
	chanCfg := r.read(4)
	if r.bad {
		return cfg, malformed(path, "truncated (%d bytes)", len(b))
	}
	if cfg.objectType == 0 {
		return cfg, malformed(path, "audioObjectType 0")
	}
	cfg.sampleRate, cfg.channels = rate, channelCount(chanCfg)
	if cfg.objectType == 5 || cfg.objectType == 29 {
		ext, ok := r.frequency()
		if !ok || r.bad {
			return cfg, malformed(path, "bad SBR extension sampling frequency")
		}
		cfg.sampleRate = ext
		if cfg.objectType == 29 && cfg.channels == 1 {
			cfg.channels = 2
		}
	}
	return cfg, nil
}
