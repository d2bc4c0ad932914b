package mp4

import (
	"bytes"
	"encoding/binary"
)

// Helpers that build ISO-BMFF boxes by hand for the reader tests.

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// mkbox builds a box with a 32-bit size.
func mkbox(typ string, parts ...[]byte) []byte {
	body := cat(parts...)
	return cat(be32(uint32(8+len(body))), []byte(typ), body)
}

// mkfull builds a FullBox.
func mkfull(typ string, v uint8, flags uint32, parts ...[]byte) []byte {
	return mkbox(typ, append([]byte{v, byte(flags >> 16), byte(flags >> 8), byte(flags)}, cat(parts...)...))
}

// entries builds an entry_count followed by the entries.
func entries(n int, parts ...[]byte) []byte { return cat(be32(uint32(n)), cat(parts...)) }

// dataStart is where mdat data begins in files made by progressiveFile.
const dataStart = 28

var testAvcC = []byte{1, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0, 0}

// visualEntry builds a visual sample entry of the given format with one
// child config box.
func visualEntry(format string, w, h uint16, config []byte) []byte {
	fixed := make([]byte, visualEntryLen)
	binary.BigEndian.PutUint16(fixed[6:], 1)
	binary.BigEndian.PutUint16(fixed[24:], w)
	binary.BigEndian.PutUint16(fixed[26:], h)
	binary.BigEndian.PutUint16(fixed[74:], 0x18)
	binary.BigEndian.PutUint16(fixed[76:], 0xffff)
	return mkbox(format, fixed, config)
}

func avc1Entry() []byte { return visualEntry("avc1", 320, 180, mkbox("avcC", testAvcC)) }

// esdsBox builds an esds with the given object type and optional ASC.
func esdsBox(oti byte, asc []byte) []byte {
	dsi := []byte{}
	if asc != nil {
		dsi = cat([]byte{5, byte(len(asc))}, asc)
	}
	dcd := cat([]byte{4, byte(13 + len(dsi)), oti, 0x15, 0, 0, 0}, be32(128000), be32(128000), dsi)
	es := cat([]byte{3, byte(3 + len(dcd) + 3)}, []byte{0, 1, 0}, dcd, []byte{6, 1, 2})
	return mkfull("esds", 0, 0, es)
}

// mp4aEntry builds an mp4a sample entry.
func mp4aEntry(esds []byte) []byte {
	fixed := make([]byte, audioEntryLen)
	binary.BigEndian.PutUint16(fixed[6:], 1)
	binary.BigEndian.PutUint16(fixed[16:], 2)
	binary.BigEndian.PutUint16(fixed[18:], 16)
	binary.BigEndian.PutUint32(fixed[24:], 44100<<16)
	return mkbox("mp4a", fixed, esds)
}

// trakBox builds a trak with the given handler, sample entry, optional edts
// and stbl tables.
func trakBox(id uint32, handler string, timescale uint32, entry, edts []byte, tables ...[]byte) []byte {
	tkhd := mkfull("tkhd", 0, 3, be32(0), be32(0), be32(id), make([]byte, 68))
	mdhd := mkfull("mdhd", 0, 0, be32(0), be32(0), be32(timescale), be32(0), be16(0x15c7), be16(0)) // "eng"
	hdlr := mkfull("hdlr", 0, 0, be32(0), []byte(handler), make([]byte, 12), []byte("h\x00"))
	stsd := mkfull("stsd", 0, 0, be32(1), entry)
	stbl := mkbox("stbl", stsd, cat(tables...))
	minf := mkbox("minf", stbl)
	return mkbox("trak", tkhd, edts, mkbox("mdia", mdhd, hdlr, minf))
}

// progressiveFile lays out ftyp, an mdat of mdatLen bytes (data at
// dataStart) and a moov with the given traks.
func progressiveFile(mdatLen int, moovKids ...[]byte) []byte {
	ftyp := mkbox("ftyp", []byte("isom"), be32(0x200), []byte("isom"))
	mdat := cat(be32(uint32(8+mdatLen)), []byte("mdat"), make([]byte, mdatLen))
	mvhd := mkfull("mvhd", 0, 0, make([]byte, 96))
	return cat(ftyp, mdat, mkbox("moov", mvhd, cat(moovKids...)))
}

// simpleTables returns stts/stsz/stsc/stco for n samples of size bytes and
// duration dur, all in one chunk at dataStart.
func simpleTables(n int, size, dur uint32) [][]byte {
	return [][]byte{
		mkfull("stts", 0, 0, entries(1, be32(uint32(n)), be32(dur))),
		mkfull("stsc", 0, 0, entries(1, be32(1), be32(uint32(n)), be32(1))),
		mkfull("stsz", 0, 0, be32(size), be32(uint32(n))),
		mkfull("stco", 0, 0, entries(1, be32(dataStart))),
	}
}
