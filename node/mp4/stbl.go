package mp4

import "encoding/binary"

// sizeTable is an stsz or stz2 table read in place, without copying.
type sizeTable struct {
	n        int
	constant uint32
	field    int // bits per entry when constant is 0: 4, 8, 16 or 32
	b        []byte
}

// at returns the size of sample i (0-based, i < n).
func (st *sizeTable) at(i int) uint32 {
	if st.constant != 0 {
		return st.constant
	}
	switch st.field {
	case 4:
		v := st.b[i/2]
		if i%2 == 0 {
			return uint32(v >> 4)
		}
		return uint32(v & 0xf)
	case 8:
		return uint32(st.b[i])
	case 16:
		return uint32(binary.BigEndian.Uint16(st.b[2*i:]))
	}
	return binary.BigEndian.Uint32(st.b[4*i:])
}

// parseSizes reads stsz or stz2. A constant sample size leaves the count
// unbounded by the box bytes, so it is checked against the file size.
func parseSizes(stbl map[string]box, path string, fileSize int64) (*sizeTable, error) {
	if bx, ok := stbl["stsz"]; ok {
		p := path + "/stsz"
		c := newCursor(bx.body, p)
		c.fullBox()
		st := &sizeTable{constant: c.u32(), field: 32}
		if st.constant != 0 {
			n := c.u32()
			if c.err != nil {
				return nil, c.err
			}
			if uint64(n)*uint64(st.constant) > uint64(fileSize) {
				return nil, malformed(p, "%d samples of %d bytes do not fit in a %d byte file", n, st.constant, fileSize)
			}
			st.n = int(n)
			return st, nil
		}
		st.n = c.count(4)
		st.b = c.take(4 * st.n)
		return st, c.err
	}
	bx, ok := stbl["stz2"]
	if !ok {
		return nil, malformed(path, "missing stsz and stz2")
	}
	p := path + "/stz2"
	c := newCursor(bx.body, p)
	c.fullBox()
	c.skip(3)
	st := &sizeTable{field: int(c.u8())}
	n := c.u32()
	if c.err != nil {
		return nil, c.err
	}
	if st.field != 4 && st.field != 8 && st.field != 16 {
		return nil, malformed(p, "field_size %d", st.field)
	}
	need := (uint64(n)*uint64(st.field) + 7) / 8
	if need > uint64(c.left()) {
		return nil, malformed(p, "%d entries of %d bits need %d bytes, box has %d", n, st.field, need, c.left())
	}
	st.n = int(n)
	st.b = c.take(int(need))
	return st, c.err
}

// buildSamples expands the sample tables of one stbl into Samples.
func buildSamples(stbl map[string]box, path string, fileSize int64, audio bool) ([]Sample, error) {
	st, err := parseSizes(stbl, path, fileSize)
	if err != nil {
		return nil, err
	}
	samples := make([]Sample, st.n)
	for i := range samples {
		samples[i].Size = st.at(i)
		samples[i].Sync = true
	}
	steps := []func([]Sample, map[string]box, string) error{applyStts, applyCtts}
	if !audio {
		steps = append(steps, applyStss)
	}
	for _, step := range steps {
		if err := step(samples, stbl, path); err != nil {
			return nil, err
		}
	}
	if err := applyChunks(samples, stbl, path, fileSize); err != nil {
		return nil, err
	}
	return samples, nil
}

// applyStts sets DTS and Duration from stts.
func applyStts(samples []Sample, stbl map[string]box, path string) error {
	bx, ok := stbl["stts"]
	if !ok {
		if len(samples) == 0 {
			return nil
		}
		return malformed(path, "missing stts")
	}
	dts := int64(0)
	return forRuns(bx, path+"/stts", len(samples), func(i int, delta uint32) {
		samples[i].DTS, samples[i].Duration = dts, delta
		dts += int64(delta)
	})
}

// forRuns walks a full box of (sample_count, value) entries, the layout of
// stts and ctts, calling set for every sample with its run's value. The
// runs must cover exactly n samples.
func forRuns(bx box, p string, n int, set func(i int, value uint32)) error {
	c := newCursor(bx.body, p)
	c.fullBox()
	entries := c.count(8)
	s := 0
	for e := 0; e < entries; e++ {
		count, value := int(c.u32()), c.u32()
		if count > n-s {
			return malformed(p, "entry %d: describes more than the %d samples of the sample size box", e, n)
		}
		for i := s; i < s+count; i++ {
			set(i, value)
		}
		s += count
	}
	if c.err != nil {
		return c.err
	}
	if s != n {
		return malformed(p, "describes %d samples, sample size box has %d", s, n)
	}
	return nil
}

// applyCtts sets CTO from ctts. Version 0 offsets are read as signed too,
// as many writers put negative offsets in version 0 boxes.
func applyCtts(samples []Sample, stbl map[string]box, path string) error {
	bx, ok := stbl["ctts"]
	if !ok {
		return nil
	}
	return forRuns(bx, path+"/ctts", len(samples), func(i int, off uint32) {
		samples[i].CTO = int32(off)
	})
}

// applyStss marks sync samples; without stss every sample is sync.
func applyStss(samples []Sample, stbl map[string]box, path string) error {
	bx, ok := stbl["stss"]
	if !ok {
		return nil
	}
	p := path + "/stss"
	c := newCursor(bx.body, p)
	c.fullBox()
	entries := c.count(4)
	if c.err != nil {
		return c.err
	}
	for i := range samples {
		samples[i].Sync = false
	}
	for e := 0; e < entries; e++ {
		n := c.u32()
		if n == 0 || uint64(n) > uint64(len(samples)) {
			return malformed(p, "entry %d: sample number %d out of range 1..%d", e, n, len(samples))
		}
		samples[n-1].Sync = true
	}
	return c.err
}

// chunkOffsets reads stco or co64 in place.
func chunkOffsets(stbl map[string]box, path string) (n int, at func(int) uint64, err error) {
	if bx, ok := stbl["stco"]; ok {
		c := newCursor(bx.body, path+"/stco")
		c.fullBox()
		n = c.count(4)
		b := c.take(4 * n)
		return n, func(i int) uint64 { return uint64(binary.BigEndian.Uint32(b[4*i:])) }, c.err
	}
	if bx, ok := stbl["co64"]; ok {
		c := newCursor(bx.body, path+"/co64")
		c.fullBox()
		n = c.count(8)
		b := c.take(8 * n)
		return n, func(i int) uint64 { return binary.BigEndian.Uint64(b[8*i:]) }, c.err
	}
	return 0, nil, malformed(path, "missing stco and co64")
}

// applyChunks sets sample offsets from stsc and the chunk offsets and checks
// every sample lies inside the file.
func applyChunks(samples []Sample, stbl map[string]box, path string, fileSize int64) error {
	if len(samples) == 0 {
		return nil
	}
	nChunks, chunkAt, err := chunkOffsets(stbl, path)
	if err != nil {
		return err
	}
	bx, ok := stbl["stsc"]
	if !ok {
		return malformed(path, "missing stsc")
	}
	p := path + "/stsc"
	c := newCursor(bx.body, p)
	c.fullBox()
	entries := c.count(12)
	if c.err != nil {
		return c.err
	}
	s := 0
	for e := 0; e < entries; e++ {
		first, spc := uint64(c.u32()), uint64(c.u32())
		c.skip(4)
		next := uint64(nChunks) + 1
		if e+1 < entries {
			next = uint64(binary.BigEndian.Uint32(c.b[c.pos:]))
		}
		if (e == 0 && first != 1) || first >= next || next > uint64(nChunks)+1 {
			return malformed(p, "entry %d: first_chunk %d out of order or past the %d chunks", e, first, nChunks)
		}
		for ch := first; ch < next; ch++ {
			if spc > uint64(len(samples)-s) {
				return malformed(p, "chunk %d: describes more than the %d samples of the sample size box", ch, len(samples))
			}
			if err := placeChunk(samples[s:s+int(spc)], chunkAt(int(ch-1)), fileSize, path, ch); err != nil {
				return err
			}
			s += int(spc)
		}
	}
	if s != len(samples) {
		return malformed(p, "chunks hold %d samples, sample size box has %d", s, len(samples))
	}
	return nil
}

// placeChunk lays out the samples of one chunk from its offset.
func placeChunk(samples []Sample, off uint64, fileSize int64, path string, ch uint64) error {
	for i := range samples {
		end := off + uint64(samples[i].Size)
		if end > uint64(fileSize) || end < off {
			return malformed(path, "chunk %d: sample at offset %d size %d runs past end of file (%d bytes)", ch, off, samples[i].Size, fileSize)
		}
		samples[i].Offset = int64(off)
		off = end
	}
	return nil
}
