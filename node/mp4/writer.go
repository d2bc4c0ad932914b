package mp4

// AppendInit appends a CMAF header for the single track t to dst and returns
// the extended slice: ftyp, then moov with mvhd, one trak (tkhd, mdia with
// mdhd, hdlr, minf with vmhd/smhd, dinf, and an stbl holding t.SampleEntry
// and empty sample tables) and mvex/trex. The output depends only on t.
func AppendInit(dst []byte, t *Track) []byte {
	panic("mp4: AppendInit not implemented yet")
}

// AppendSegmentHeader appends the start of a CMAF media segment for the
// samples of t: styp, moof (mfhd with seq, traf with tfhd, a 64-bit tfdt
// equal to samples[0].DTS, trun with sizes, durations, flags and composition
// offsets) and the 8- or 16-byte mdat header. The caller then writes the
// sample bytes in order; the total segment size is the returned header
// length plus the sum of the sample sizes. seq is the 1-based segment number.
func AppendSegmentHeader(dst []byte, seq uint32, t *Track, samples []Sample) []byte {
	panic("mp4: AppendSegmentHeader not implemented yet")
}
