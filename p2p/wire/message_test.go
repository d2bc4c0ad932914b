package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeClientMessageValid(t *testing.T) {
	tests := []struct {
		in   string
		want Message
	}{
		{`{"t":"join","swarm":"vod/demo/v720","upload":true}`, &JoinMsg{Swarm: "vod/demo/v720", Upload: true}},
		{`{"t":"join","swarm":"live/s1/a"}`, &JoinMsg{Swarm: "live/s1/a"}},
		{`{"t":"have","ranges":[[0,5],[8,8]]}`, &HaveMsg{Ranges: []Range{{0, 5}, {8, 8}}}},
		{`{"t":"have","ranges":[]}`, &HaveMsg{Ranges: []Range{}}},
		{`{"t":"lost","ranges":[[0,2]]}`, &LostMsg{Ranges: []Range{{0, 2}}}},
		{`{"t":"want","seq":12}`, &WantMsg{Seq: 12}},
		{`{"t":"want","seq":9007199254740991}`, &WantMsg{Seq: MaxSeq}},
		{`{"t":"signal","to":"0123456789abcdef","data":{"sdp":{"type":"offer","sdp":"v=0"}}}`,
			&SignalMsg{To: "0123456789abcdef", Data: []byte(`{"sdp":{"type":"offer","sdp":"v=0"}}`)}},
		{`{"t":"report","seq":12,"source":"http","bytes":100,"ok":true}`,
			&ReportMsg{Seq: 12, Source: "http", Bytes: 100, OK: true}},
		{`{"t":"report","seq":12,"source":"peer","peer":"0123456789abcdef","bytes":0,"ok":false,"reason":"hash"}`,
			&ReportMsg{Seq: 12, Source: "peer", Peer: "0123456789abcdef", Reason: "hash"}},
		{`{"t":"bye"}`, &ByeMsg{}},
		{` { "t" : "want" , "seq" : 1 } `, &WantMsg{Seq: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := DecodeClientMessage([]byte(tt.in))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			// Round trip through Encode.
			b, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeClientMessage(b)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip %s: %#v, %v", b, again, err)
			}
		})
	}
}

func TestDecodeClientMessageInvalid(t *testing.T) {
	big := `{"t":"want","seq":1,"x":"` + strings.Repeat("a", MaxMessageBytes) + `"}`
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", ``, ErrBadMessage},
		{"null", `null`, ErrBadMessage},
		{"array", `[]`, ErrBadMessage},
		{"no type", `{"seq":1}`, ErrBadMessage},
		{"type not string", `{"t":1}`, ErrBadMessage},
		{"unknown type", `{"t":"welcome"}`, ErrBadMessage},
		{"unknown field", `{"t":"want","seq":1,"x":2}`, ErrBadMessage},
		{"case field", `{"t":"want","Seq":1}`, ErrBadMessage},
		{"missing field", `{"t":"want"}`, ErrBadMessage},
		{"null field", `{"t":"want","seq":null}`, ErrBadMessage},
		{"negative seq", `{"t":"want","seq":-1}`, ErrBadMessage},
		{"float seq", `{"t":"want","seq":1.5}`, ErrBadMessage},
		{"seq too big", `{"t":"want","seq":9007199254740992}`, ErrBadMessage},
		{"bad swarm", `{"t":"join","swarm":"vod/../x"}`, ErrBadMessage},
		{"bad swarm kind", `{"t":"join","swarm":"x/a/b"}`, ErrBadMessage},
		{"range reversed", `{"t":"have","ranges":[[5,1]]}`, ErrBadMessage},
		{"range three", `{"t":"have","ranges":[[1,2,3]]}`, ErrBadMessage},
		{"range one", `{"t":"have","ranges":[[1]]}`, ErrBadMessage},
		{"too many ranges", `{"t":"have","ranges":[` + strings.Repeat("[1,1],", MaxRanges) + `[1,1]]}`, ErrBadMessage},
		{"signal bad id", `{"t":"signal","to":"xyz","data":{}}`, ErrBadMessage},
		{"signal upper id", `{"t":"signal","to":"0123456789ABCDEF","data":{}}`, ErrBadMessage},
		{"signal data not object", `{"t":"signal","to":"0123456789abcdef","data":"x"}`, ErrBadMessage},
		{"signal from", `{"t":"signal","to":"0123456789abcdef","data":{},"from":"0123456789abcdef"}`, ErrBadMessage},
		{"report peer missing", `{"t":"report","seq":1,"source":"peer","bytes":1,"ok":true}`, ErrBadMessage},
		{"report peer with http", `{"t":"report","seq":1,"source":"http","peer":"0123456789abcdef","bytes":1,"ok":true}`, ErrBadMessage},
		{"report reason missing", `{"t":"report","seq":1,"source":"http","bytes":1,"ok":false}`, ErrBadMessage},
		{"report reason with ok", `{"t":"report","seq":1,"source":"http","bytes":1,"ok":true,"reason":"hash"}`, ErrBadMessage},
		{"report bad source", `{"t":"report","seq":1,"source":"cdn","bytes":1,"ok":true}`, ErrBadMessage},
		{"report bytes", `{"t":"report","seq":1,"source":"http","bytes":-1,"ok":true}`, ErrBadMessage},
		{"report ok missing", `{"t":"report","seq":1,"source":"http","bytes":1}`, ErrBadMessage},
		{"bye field", `{"t":"bye","x":1}`, ErrBadMessage},
		{"trailing", `{"t":"bye"}{}`, ErrBadMessage},
		{"too large", big, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeClientMessage([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %#v, %v; want %v", m, err, tt.want)
			}
		})
	}
}

func TestDecodePeerMessage(t *testing.T) {
	for _, in := range []string{`{"t":"get","id":7,"seq":12}`, `{"t":"data","id":7,"seq":12,"size":9}`,
		`{"t":"none","id":7}`, `{"t":"cancel","id":7}`, `{"t":"have","ranges":[[1,2]]}`} {
		if _, err := DecodePeerMessage([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for _, in := range []string{`{"t":"get","id":7}`, `{"t":"data","id":7,"seq":12,"size":-1}`, `{"t":"join","swarm":"vod/a/b"}`} {
		if _, err := DecodePeerMessage([]byte(in)); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestEncodeTrackerMessages(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{&PeersMsg{Seq: 3}, `{"t":"peers","seq":3,"fetch":false,"peers":[],"sha256":"","size":0}`},
		{&NeighborsMsg{}, `{"t":"neighbors","peers":[]}`},
		{&FetchMsg{Seq: 4}, `{"t":"fetch","seq":4}`},
		{&DropMsg{Peer: "0123456789abcdef", Reason: DropBadSegment}, `{"t":"drop","peer":"0123456789abcdef","reason":"bad_segment"}`},
		{&SignalMsg{From: "0123456789abcdef", Data: []byte(`{"candidate":{}}`)}, `{"t":"signal","from":"0123456789abcdef","data":{"candidate":{}}}`},
		{&WelcomeMsg{V: 1, Peer: "p", Group: "g", Policy: PolicyOn, Config: ClientConfig{MaxPeers: 5, P2PWindowS: [2]float64{6, 30}, HTTPMarginS: 4}},
			`{"t":"welcome","v":1,"peer":"p","group":"g","policy":"on","config":{"max_peers":5,"p2p_window_s":[6,30],"http_margin_s":4,"spike":false}}`},
	}
	for _, tt := range tests {
		got := string(MustEncode(tt.m))
		if got != tt.want {
			t.Errorf("got %s\nwant %s", got, tt.want)
		}
		back, err := DecodeTrackerMessage([]byte(got))
		if err != nil || back == nil || back.Type() != tt.m.Type() {
			t.Errorf("decode %s: %#v %v", got, back, err)
		}
	}
	if m, err := DecodeTrackerMessage([]byte(`{"t":"future","x":1}`)); m != nil || err != nil {
		t.Errorf("unknown tracker type: %v %v", m, err)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"t":"join","swarm":"vod/demo/v720","upload":true}`, `{"t":"have","ranges":[[0,5],[8,8]]}`,
		`{"t":"lost","ranges":[[0,2]]}`, `{"t":"want","seq":12}`, `{"t":"bye"}`,
		`{"t":"signal","to":"0123456789abcdef","data":{"candidate":{"c":"x"}}}`,
		`{"t":"report","seq":12,"source":"peer","peer":"0123456789abcdef","bytes":5,"ok":false,"reason":"hash"}`,
		`{"t":"report","seq":12,"source":"peer","peer":"0123456789abcdef","bytes":0,"ok":false,"reason":"size"}`,
		`{"t":"report","seq":12,"source":"peer","peer":"0123456789abcdef","bytes":9,"ok":true}`,
		`{"t":"report","seq":12,"source":"http","bytes":9,"ok":false,"reason":"timeout"}`,
		`{"t":"report","seq":12,"source":"http","peer":"0123456789abcdef","bytes":1,"ok":true}`,
		`{"t":"get","id":1,"seq":2}`, `{"t":"data","id":1,"seq":2,"size":3}`, `[[[[`, `{"t":"have","ranges":[[1,2,3]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dec := range []func([]byte) (Message, error){DecodeClientMessage, DecodePeerMessage} {
			m, err := dec(b)
			if err != nil {
				if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unwrapped error %v", err)
				}
				continue
			}
			// A decoded message re-encodes and decodes to the same value.
			out, err := Encode(m)
			if err != nil {
				t.Fatalf("encode %#v: %v", m, err)
			}
			again, err := dec(out)
			if err != nil {
				t.Fatalf("re-decode %s: %v", out, err)
			}
			if again.Type() != m.Type() {
				t.Fatalf("type changed %s → %s", m.Type(), again.Type())
			}
		}
		_, _ = DecodeTrackerMessage(b)
	})
}
