package mp4

// SPS is what ParseSPS reads from an H.264 sequence parameter set
// (ITU-T H.264 7.3.2.1.1).
type SPS struct {
	// Profile, Constraints and Level are profile_idc, the constraint flags
	// byte and level_idc.
	Profile, Constraints, Level uint8
	// ChromaFormat is chroma_format_idc (1 = 4:2:0 when not coded).
	ChromaFormat int
	// Width and Height are the displayed size in pixels: the coded size
	// minus the frame cropping window.
	Width, Height int
	// FrameRate is time_scale / (2 * num_units_in_tick) from the VUI timing
	// information; 0 when absent.
	FrameRate float64
}

// Limits of ParseSPS. They are far above any real stream (8K is 480x270
// macroblocks) and keep every computation in range.
const (
	maxSPSSize        = 4096
	maxMacroblocksDim = 2048
	maxPOCCycle       = 255
)

// spsReader reads Exp-Golomb coded fields from an RBSP.
type spsReader struct {
	bitReader
}

// ue reads an unsigned Exp-Golomb code (H.264 9.1) of at most 32 bits.
func (r *spsReader) ue() uint32 {
	zeros := 0
	for r.read(1) == 0 {
		if r.bad {
			return 0
		}
		zeros++
		if zeros > 31 {
			r.bad = true
			return 0
		}
	}
	if zeros == 0 {
		return 0
	}
	return (1<<zeros - 1) + r.read(zeros)
}

// se reads a signed Exp-Golomb code.
func (r *spsReader) se() int32 {
	v := r.ue()
	if v&1 == 1 {
		return int32((v + 1) / 2)
	}
	return -int32(v / 2)
}

// unescapeRBSP removes emulation prevention bytes (a 0x03 following two
// zero bytes) from a NAL unit payload.
func unescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// ParseSPS decodes an H.264 SPS NAL unit (starting with its one-byte NAL
// header, type 7) far enough to know the picture size and, when the VUI
// carries timing information, the frame rate. Errors wrap ErrMalformed or
// ErrUnsupported.
func ParseSPS(nal []byte) (SPS, error) {
	const path = "sps"
	var s SPS
	if len(nal) < 4 {
		return s, malformed(path, "%d bytes, need at least 4", len(nal))
	}
	if len(nal) > maxSPSSize {
		return s, unsupported("sps: %d bytes, limit %d", len(nal), maxSPSSize)
	}
	if nal[0]&0x1f != 7 {
		return s, malformed(path, "NAL unit type %d, want 7", nal[0]&0x1f)
	}
	r := &spsReader{bitReader{b: unescapeRBSP(nal[1:])}}
	s.Profile = uint8(r.read(8))
	s.Constraints = uint8(r.read(8))
	s.Level = uint8(r.read(8))
	if id := r.ue(); id > 31 {
		return s, malformed(path, "seq_parameter_set_id %d", id)
	}
	s.ChromaFormat = 1
	if err := r.highProfile(&s); err != nil {
		return s, err
	}
	if err := r.frameNumAndPOC(); err != nil {
		return s, err
	}
	r.ue()    // max_num_ref_frames
	r.read(1) // gaps_in_frame_num_value_allowed_flag
	if err := r.size(&s); err != nil {
		return s, err
	}
	vui := r.read(1) == 1 // vui_parameters_present_flag
	if r.bad {
		return SPS{}, malformed(path, "truncated")
	}
	if vui {
		// A VUI cut short only loses the frame rate.
		s.FrameRate = r.vuiFrameRate()
	}
	return s, nil
}

// highProfile reads the chroma format, bit depths and scaling lists that
// the High profiles add.
func (r *spsReader) highProfile(s *SPS) error {
	switch s.Profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
	default:
		return nil
	}
	s.ChromaFormat = int(r.ue())
	if s.ChromaFormat > 3 {
		return malformed("sps", "chroma_format_idc %d", s.ChromaFormat)
	}
	if s.ChromaFormat == 3 {
		r.read(1) // separate_colour_plane_flag
	}
	if d := r.ue(); d > 6 {
		return malformed("sps", "bit_depth_luma_minus8 %d", d)
	}
	if d := r.ue(); d > 6 {
		return malformed("sps", "bit_depth_chroma_minus8 %d", d)
	}
	r.read(1)           // qpprime_y_zero_transform_bypass_flag
	if r.read(1) == 1 { // seq_scaling_matrix_present_flag
		n := 8
		if s.ChromaFormat == 3 {
			n = 12
		}
		for i := range n {
			if r.read(1) == 1 {
				size := 16
				if i >= 6 {
					size = 64
				}
				r.scalingList(size)
			}
		}
	}
	if r.bad {
		return malformed("sps", "truncated in high profile fields")
	}
	return nil
}

// scalingList skips a scaling_list() of the given size (H.264 7.3.2.1.1.1).
func (r *spsReader) scalingList(size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			delta := r.se()
			next = (last + delta + 256) % 256
		}
		if next != 0 {
			last = next
		}
		if r.bad {
			return
		}
	}
}

// frameNumAndPOC skips log2_max_frame_num and the picture order count
// fields.
func (r *spsReader) frameNumAndPOC() error {
	r.ue() // log2_max_frame_num_minus4
	switch poc := r.ue(); poc {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.read(1) // delta_pic_order_always_zero_flag
		r.se()    // offset_for_non_ref_pic
		r.se()    // offset_for_top_to_bottom_field
		n := r.ue()
		if n > maxPOCCycle {
			return malformed("sps", "num_ref_frames_in_pic_order_cnt_cycle %d", n)
		}
		for range n {
			r.se()
			if r.bad {
				break
			}
		}
	case 2:
	default:
		return malformed("sps", "pic_order_cnt_type %d", poc)
	}
	return nil
}

// size reads the picture size and the cropping window.
func (r *spsReader) size(s *SPS) error {
	wMbs := int64(r.ue()) + 1
	hMapUnits := int64(r.ue()) + 1
	frameMbsOnly := int64(r.read(1))
	if frameMbsOnly == 0 {
		r.read(1) // mb_adaptive_frame_field_flag
	}
	r.read(1) // direct_8x8_inference_flag
	if r.bad {
		return malformed("sps", "truncated before the picture size")
	}
	if wMbs > maxMacroblocksDim || hMapUnits > maxMacroblocksDim {
		return unsupported("sps: picture of %dx%d macroblocks", wMbs, hMapUnits)
	}
	width := wMbs * 16
	height := (2 - frameMbsOnly) * hMapUnits * 16
	if r.read(1) == 1 { // frame_cropping_flag
		cropX, cropY := int64(1), 2-frameMbsOnly
		switch s.ChromaFormat {
		case 1:
			cropX, cropY = 2, 2*(2-frameMbsOnly)
		case 2:
			cropX = 2
		}
		left, right := int64(r.ue()), int64(r.ue())
		top, bottom := int64(r.ue()), int64(r.ue())
		width -= cropX * (left + right)
		height -= cropY * (top + bottom)
	}
	if r.bad || width <= 0 || height <= 0 {
		return malformed("sps", "bad picture size %dx%d", width, height)
	}
	s.Width, s.Height = int(width), int(height)
	return nil
}

// vuiFrameRate reads the VUI up to its timing information and returns the
// frame rate, or 0 when it is absent or unreadable.
func (r *spsReader) vuiFrameRate() float64 {
	if r.read(1) == 1 { // aspect_ratio_info_present_flag
		if r.read(8) == 255 { // Extended_SAR
			r.read(32)
		}
	}
	if r.read(1) == 1 { // overscan_info_present_flag
		r.read(1)
	}
	if r.read(1) == 1 { // video_signal_type_present_flag
		r.read(4)
		if r.read(1) == 1 { // colour_description_present_flag
			r.read(24)
		}
	}
	if r.read(1) == 1 { // chroma_loc_info_present_flag
		r.ue()
		r.ue()
	}
	if r.read(1) == 0 { // timing_info_present_flag
		return 0
	}
	units, scale := r.read(32), r.read(32)
	if r.bad || units == 0 || scale == 0 {
		return 0
	}
	return float64(scale) / float64(2*uint64(units))
}
