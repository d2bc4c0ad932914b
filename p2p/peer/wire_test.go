package peer

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/wire"
)

func TestDecodeChannel(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want chanMsg
		ok   bool
	}{
		{"have", `{"t":"have","ranges":[[8,8],[0,5],[6,7]]}`, chanMsg{t: "have", have: wire.RangeSet{{0, 8}}}, true},
		{"have empty", `{"t":"have","ranges":[]}`, chanMsg{t: "have", have: wire.RangeSet{}}, true},
		{"get", `{"t":"get","id":7,"seq":12}`, chanMsg{t: "get", id: 7, seq: 12}, true},
		{"data", `{"t":"data","id":7,"seq":12,"size":99}`, chanMsg{t: "data", id: 7, seq: 12, size: 99}, true},
		{"none", `{"t":"none","id":7}`, chanMsg{t: "none", id: 7}, true},
		{"cancel", `{"t":"cancel","id":7}`, chanMsg{t: "cancel", id: 7}, true},
		{"not json", `hello`, chanMsg{}, false},
		{"unknown type", `{"t":"evil"}`, chanMsg{}, false},
		{"tracker type", `{"t":"want","seq":1}`, chanMsg{}, false},
		{"negative size", `{"t":"data","id":1,"seq":1,"size":-1}`, chanMsg{}, false},
		{"huge size", `{"t":"data","id":1,"seq":1,"size":1e12}`, chanMsg{}, false},
		{"reversed range", `{"t":"have","ranges":[[5,1]]}`, chanMsg{}, false},
		{"missing id", `{"t":"get","seq":1}`, chanMsg{}, false},
		{"too large", `{"t":"have","ranges":[` + strings.Repeat(`[1,1],`, 4000) + `[1,1]]}`, chanMsg{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeChannel([]byte(tc.in))
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, errBadChannelMessage) {
					t.Fatalf("error %v does not wrap errBadChannelMessage", err)
				}
				return
			}
			if got.t != tc.want.t || got.id != tc.want.id || got.seq != tc.want.seq || got.size != tc.want.size ||
				len(got.have) != len(tc.want.have) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got.have {
				if got.have[i] != tc.want.have[i] {
					t.Fatalf("have %v, want %v", got.have, tc.want.have)
				}
			}
		})
	}
}

func TestDecodeSignal(t *testing.T) {
	mid, idx := "0", uint16(0)
	offer := signalData{SDP: &webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\n"}}
	cand := signalData{Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", SDPMid: &mid, SDPMLineIndex: &idx}}
	for _, d := range []signalData{offer, cand} {
		got, err := decodeSignal(encodeSignal(d))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(d)
		if !bytes.Equal(a, b) {
			t.Fatalf("round trip %s != %s", a, b)
		}
	}
	// The browser's form of a candidate.
	browser := `{"candidate":{"candidate":"candidate:9 1 udp 2 10.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}`
	if d, err := decodeSignal(json.RawMessage(browser)); err != nil || d.Candidate == nil || *d.Candidate.UsernameFragment != "abcd" {
		t.Fatalf("browser candidate: %+v, %v", d, err)
	}
	for _, bad := range []string{`{"sdp":{"type":"rollback","sdp":""}}`, `{"sdp":{"type":"bogus"}}`, `[1]`, `"x"`} {
		if _, err := decodeSignal(json.RawMessage(bad)); err == nil {
			t.Errorf("decodeSignal(%s) succeeded", bad)
		}
	}
}

// FuzzChannelMessage feeds arbitrary text frames to the data-channel
// control decoder: it must never panic, and what it accepts must be
// normalised (ranges sorted, disjoint, bounded) and re-encodable.
func FuzzChannelMessage(f *testing.F) {
	for _, s := range []string{
		`{"t":"have","ranges":[[0,5],[8,8]]}`, `{"t":"get","id":7,"seq":12}`,
		`{"t":"data","id":7,"seq":12,"size":123456}`, `{"t":"none","id":7}`, `{"t":"cancel","id":7}`,
		`{"t":"have","ranges":[[9007199254740991,9007199254740991]]}`, `{"t":"have","ranges":[[1,2,3]]}`,
		`{"t":"get","id":1.5,"seq":1}`, `{"t":"get","id":1,"seq":1,"x":1}`, `{}`, `null`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeChannel(b)
		if err != nil {
			return
		}
		if len(b) > wire.MaxPeerMessageBytes {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if len(m.have) > maxNeighborRanges {
			t.Fatalf("%d ranges kept", len(m.have))
		}
		for i, r := range m.have {
			if r[0] > r[1] || r[1] > wire.MaxSeq || (i > 0 && r[0] <= m.have[i-1][1]+1) {
				t.Fatalf("ranges not normalised: %v", m.have)
			}
		}
		var out wire.Message
		switch m.t {
		case wire.TypeHave:
			out = &wire.HaveMsg{Ranges: m.have}
		case wire.TypeGet:
			out = &wire.GetMsg{ID: m.id, Seq: m.seq}
		case wire.TypeData:
			out = &wire.DataMsg{ID: m.id, Seq: m.seq, Size: m.size}
		case wire.TypeNone:
			out = &wire.NoneMsg{ID: m.id}
		case wire.TypeCancel:
			out = &wire.CancelMsg{ID: m.id}
		default:
			t.Fatalf("unknown type %q accepted", m.t)
		}
		enc, err := wire.Encode(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeChannel(enc); err != nil && len(enc) <= wire.MaxPeerMessageBytes {
			t.Fatalf("re-encoded %s does not decode: %v", enc, err)
		}
	})
}

// FuzzSignal: signalling data is relayed verbatim from other peers.
func FuzzSignal(f *testing.F) {
	for _, s := range []string{`{"sdp":{"type":"offer","sdp":"v=0\r\n"}}`, `{"candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 1 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"candidate":null}`, `{"sdp":{"type":"pranswer"}}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeSignal(json.RawMessage(b))
		if err == nil && d.SDP != nil && d.SDP.Type != webrtc.SDPTypeOffer && d.SDP.Type != webrtc.SDPTypeAnswer {
			t.Fatalf("accepted sdp type %v", d.SDP.Type)
		}
	})
}

// FuzzHashList: hashes.json comes from the network.
func FuzzHashList(f *testing.F) {
	f.Add([]byte(`{"v":1,"swarm":"vod/a/r","segments":[{"seq":0,"sha256":"` + strings.Repeat("ab", 32) + `","size":10}]}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"segments":[{"seq":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := wire.DecodeHashList(bytes.NewReader(b))
		if err != nil {
			return
		}
		h := newHashBook(list.Swarm, "", nil, nil)
		for _, s := range list.Segments {
			h.putHex(s.Seq, s.SHA256, s.Size)
		}
		if len(h.sums) > len(list.Segments) || len(h.sums) > maxHashEntries {
			t.Fatalf("%d entries", len(h.sums))
		}
	})
}
