package mp4

import "encoding/binary"

// Hand-made sample entries for the writer tests: an avc1 with an avcC
// holding an H.264 High profile SPS/PPS for 320x180, and an mp4a with an
// esds for AAC-LC 48 kHz stereo.

// wtBits is an MSB-first bit writer with Exp-Golomb codes (H.264 7.2, 9.1).
type wtBits struct {
	b []byte
	n int // bits written
}

func (w *wtBits) bit(v uint32) {
	if w.n%8 == 0 {
		w.b = append(w.b, 0)
	}
	if v != 0 {
		w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
	}
	w.n++
}

func (w *wtBits) u(n int, v uint32) {
	for i := n - 1; i >= 0; i-- {
		w.bit(v >> i & 1)
	}
}

func (w *wtBits) ue(v uint32) {
	x := v + 1
	length := 0
	for y := x; y > 1; y >>= 1 {
		length++
	}
	w.u(length, 0)
	w.u(length+1, x)
}

func (w *wtBits) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
		return
	}
	w.ue(uint32(-2 * v))
}

// trailing appends rbsp_trailing_bits and returns the RBSP.
func (w *wtBits) trailing() []byte {
	w.bit(1)
	for w.n%8 != 0 {
		w.bit(0)
	}
	return w.b
}

// wtNAL turns an RBSP into a NAL unit: header byte plus emulation
// prevention (a 0x03 after two zero bytes followed by a byte <= 3).
func wtNAL(header byte, rbsp []byte) []byte {
	out := []byte{header}
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
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

// wtSPS is a High profile (100) level 1.3 SPS for 320x180 (20x12
// macroblocks, 6 lines cropped at the bottom), 4:2:0, 8 bit, POC type 0.
func wtSPS() []byte {
	var w wtBits
	w.u(8, 100) // profile_idc
	w.u(8, 0)   // constraint flags
	w.u(8, 13)  // level_idc
	w.ue(0)     // seq_parameter_set_id
	w.ue(1)     // chroma_format_idc
	w.ue(0)     // bit_depth_luma_minus8
	w.ue(0)     // bit_depth_chroma_minus8
	w.u(1, 0)   // qpprime_y_zero_transform_bypass_flag
	w.u(1, 0)   // seq_scaling_matrix_present_flag
	w.ue(0)     // log2_max_frame_num_minus4
	w.ue(0)     // pic_order_cnt_type
	w.ue(2)     // log2_max_pic_order_cnt_lsb_minus4
	w.ue(4)     // max_num_ref_frames
	w.u(1, 0)   // gaps_in_frame_num_value_allowed_flag
	w.ue(19)    // pic_width_in_mbs_minus1
	w.ue(11)    // pic_height_in_map_units_minus1
	w.u(1, 1)   // frame_mbs_only_flag
	w.u(1, 1)   // direct_8x8_inference_flag
	w.u(1, 1)   // frame_cropping_flag
	w.ue(0)     // frame_crop_left_offset
	w.ue(0)     // frame_crop_right_offset
	w.ue(0)     // frame_crop_top_offset
	w.ue(6)     // frame_crop_bottom_offset (2 lines per unit)
	w.u(1, 0)   // vui_parameters_present_flag
	return wtNAL(0x67, w.trailing())
}

// wtPPS is a CABAC PPS with 8x8 transform for wtSPS.
func wtPPS() []byte {
	var w wtBits
	w.ue(0)   // pic_parameter_set_id
	w.ue(0)   // seq_parameter_set_id
	w.u(1, 1) // entropy_coding_mode_flag
	w.u(1, 0) // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)   // num_slice_groups_minus1
	w.ue(2)   // num_ref_idx_l0_default_active_minus1
	w.ue(0)   // num_ref_idx_l1_default_active_minus1
	w.u(1, 1) // weighted_pred_flag
	w.u(2, 2) // weighted_bipred_idc
	w.se(-3)  // pic_init_qp_minus26
	w.se(0)   // pic_init_qs_minus26
	w.se(0)   // chroma_qp_index_offset
	w.u(1, 1) // deblocking_filter_control_present_flag
	w.u(1, 0) // constrained_intra_pred_flag
	w.u(1, 0) // redundant_pic_cnt_present_flag
	w.u(1, 1) // transform_8x8_mode_flag
	w.u(1, 0) // pic_scaling_matrix_present_flag
	w.se(0)   // second_chroma_qp_index_offset
	return wtNAL(0x68, w.trailing())
}

// wtBox wraps body in a box of type typ.
func wtBox(typ string, body ...[]byte) []byte {
	n := 8
	for _, b := range body {
		n += len(b)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

// wtAvcC builds an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3).
func wtAvcC(sps, pps []byte) []byte {
	b := []byte{1, sps[1], sps[2], sps[3], 0xFC | 3, 0xE0 | 1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	// High profile extension: chroma_format 1, bit depths 8, no SPS ext.
	b = append(b, 0xFC|1, 0xF8, 0xF8, 0)
	return wtBox("avcC", b)
}

// wtAVC1 builds a VisualSampleEntry "avc1" for 320x180.
func wtAVC1() []byte {
	b := make([]byte, 6, 128)                    // reserved
	b = binary.BigEndian.AppendUint16(b, 1)      // data_reference_index
	b = append(b, make([]byte, 16)...)           // pre_defined, reserved
	b = binary.BigEndian.AppendUint16(b, 320)    // width
	b = binary.BigEndian.AppendUint16(b, 180)    // height
	b = binary.BigEndian.AppendUint32(b, 72<<16) // horizresolution
	b = binary.BigEndian.AppendUint32(b, 72<<16) // vertresolution
	b = binary.BigEndian.AppendUint32(b, 0)      // reserved
	b = binary.BigEndian.AppendUint16(b, 1)      // frame_count
	b = append(b, make([]byte, 32)...)           // compressorname
	b = binary.BigEndian.AppendUint16(b, 0x18)   // depth
	b = binary.BigEndian.AppendUint16(b, 0xFFFF) // pre_defined = -1
	return wtBox("avc1", b, wtAvcC(wtSPS(), wtPPS()))
}

// wtDescr builds an MPEG-4 descriptor with a one-byte size (body < 128).
func wtDescr(tag byte, body ...[]byte) []byte {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	out := []byte{tag, byte(n)}
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

// wtMP4A builds an AudioSampleEntry "mp4a" with an esds for AAC-LC,
// 48 kHz, 2 channels.
func wtMP4A() []byte {
	asc := []byte{0x11, 0x90} // object type 2, frequency index 3, 2 channels
	dcd := []byte{0x40, 0x15, 0, 0, 0}
	dcd = binary.BigEndian.AppendUint32(dcd, 128000) // maxBitrate
	dcd = binary.BigEndian.AppendUint32(dcd, 128000) // avgBitrate
	es := wtDescr(3, []byte{0, 1, 0}, wtDescr(4, dcd, wtDescr(5, asc)), wtDescr(6, []byte{2}))
	esds := wtBox("esds", []byte{0, 0, 0, 0}, es)

	b := make([]byte, 6, 64)                        // reserved
	b = binary.BigEndian.AppendUint16(b, 1)         // data_reference_index
	b = append(b, make([]byte, 8)...)               // reserved
	b = binary.BigEndian.AppendUint16(b, 2)         // channelcount
	b = binary.BigEndian.AppendUint16(b, 16)        // samplesize
	b = append(b, make([]byte, 4)...)               // pre_defined, reserved
	b = binary.BigEndian.AppendUint32(b, 48000<<16) // samplerate
	return wtBox("mp4a", b, esds)
}
