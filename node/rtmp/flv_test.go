package rtmp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseVideoTag(t *testing.T) {
	nal := nalus(4, []byte{0x65, 1, 2})
	cases := []struct {
		name    string
		in      []byte
		want    videoTag
		wantErr string
	}{
		{"sequence header", avcTag(true, 0, 0, testAVCC), videoTag{kind: tagConfig, key: true, data: testAVCC}, ""},
		{"keyframe", avcTag(true, 1, 0, nal), videoTag{kind: tagFrame, key: true, data: nal}, ""},
		{"inter frame with cts", avcTag(false, 1, 80, nal), videoTag{kind: tagFrame, cts: 80, data: nal}, ""},
		{"negative cts", avcTag(false, 1, -40, nal), videoTag{kind: tagFrame, cts: -40, data: nal}, ""},
		{"end of sequence", avcTag(true, 2, 0, nil), videoTag{kind: tagSkip, key: true}, ""},
		{"info frame", []byte{0x57, 0}, videoTag{kind: tagSkip}, ""},
		{"enhanced avc1 frames", append([]byte{0x91, 'a', 'v', 'c', '1', 0, 0, 40}, nal...),
			videoTag{kind: tagFrame, key: true, cts: 40, data: nal}, ""},
		{"enhanced avc1 frames without cts", append([]byte{0xa3, 'a', 'v', 'c', '1'}, nal...),
			videoTag{kind: tagFrame, data: nal}, ""},
		{"enhanced avc1 sequence start", append([]byte{0x90, 'a', 'v', 'c', '1'}, testAVCC...),
			videoTag{kind: tagConfig, key: true, data: testAVCC}, ""},
		{"hevc (legacy id 12)", []byte{0x1c, 0, 0, 0, 0}, videoTag{}, "unsupported video codec 12"},
		{"sorenson", []byte{0x12, 0}, videoTag{}, "unsupported video codec 2"},
		{"enhanced hevc", []byte{0x90, 'h', 'v', 'c', '1'}, videoTag{}, "unsupported video codec hvc1"},
		{"enhanced binary fourcc", []byte{0x90, 0, 1, 2, 3}, videoTag{}, "unsupported video codec 0x00010203"},
		{"enhanced multitrack", []byte{0x96, 'a', 'v', 'c', '1'}, videoTag{}, "enhanced video packet type 6"},
		{"empty", nil, videoTag{}, "empty video tag"},
		{"short avc", []byte{0x17, 1, 0}, videoTag{}, "AVC video tag of 3 bytes"},
		{"bad packet type", avcTag(true, 3, 0, nil), videoTag{}, "AVC packet type 3"},
		{"frame type 0", []byte{0x07, 1, 0, 0, 0}, videoTag{}, "video frame type 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVideoTag(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.kind != tc.want.kind || got.key != tc.want.key || got.cts != tc.want.cts ||
				!bytes.Equal(got.data, tc.want.data) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseAVCConfig(t *testing.T) {
	withExt := append(append([]byte(nil), testAVCC...), 0xfd, 0xf8, 0xf8, 0) // high profile tail
	cases := []struct {
		name     string
		in       []byte
		wantSize int
	}{
		{"4-byte lengths", testAVCC, 4},
		{"2-byte lengths", avcRecord(1, testSPS, testPPS), 2},
		{"1-byte lengths", avcRecord(0, testSPS, testPPS), 1},
		{"trailing extension", withExt, 4},
		{"3-byte lengths", avcRecord(2, testSPS, testPPS), 0},
		{"version 0", append([]byte{0}, testAVCC[1:]...), 0},
		{"no sps", []byte{1, 0x42, 0, 0x1e, 0xff, 0xe0, 1, 0, 1, 0x68}, 0},
		{"no pps", append(append([]byte(nil), testAVCC[:8+len(testSPS)]...), 0), 0},
		{"sps length beyond", []byte{1, 0x42, 0, 0x1e, 0xff, 0xe1, 0xff, 0xff, 0x67}, 0},
		{"pps where sps belongs", avcRecord(3, testPPS, testPPS), 0},
		{"truncated", testAVCC[:len(testAVCC)-1], 0},
		{"short", []byte{1, 2, 3}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAVCConfig(tc.in)
			if tc.wantSize == 0 {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("got %d, %v; want ErrProtocol", got, err)
				}
				return
			}
			if err != nil || got != tc.wantSize {
				t.Fatalf("got %d, %v; want %d", got, err, tc.wantSize)
			}
			if out := avcConfigFor4(tc.in); out[4]&3 != 3 || !bytes.Equal(out[5:], tc.in[5:]) {
				t.Fatalf("avcConfigFor4: %x", out)
			}
		})
	}
}

func TestNALUsTo4(t *testing.T) {
	a, b := []byte{0x65, 1, 2, 3}, bytes.Repeat([]byte{0x41}, 300)
	want := nalus(4, a, b)
	for _, size := range []int{1, 2, 4} {
		units := [][]byte{a, b}
		if size == 1 {
			units = [][]byte{a, b[:200]}
		}
		got, err := nalusTo4(nalus(size, units...), size)
		w := nalus(4, units...)
		if size != 1 {
			w = want
		}
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("size %d: got %x, %v", size, got, err)
		}
	}
	for _, bad := range [][]byte{{0, 0, 0, 5, 1}, {0, 0}, append(nalus(4, a), 0, 0, 0)} {
		if _, err := nalusTo4(bad, 4); !errors.Is(err, ErrProtocol) {
			t.Fatalf("%x: err %v", bad, err)
		}
	}
}

func TestParseAudioTag(t *testing.T) {
	cases := []struct {
		name     string
		in       []byte
		wantKind tagKind
		wantData []byte
		wantErr  string
	}{
		{"sequence header", aacTag(0, testASC), tagConfig, testASC, ""},
		{"raw frame", aacTag(1, []byte{1, 2, 3}), tagFrame, []byte{1, 2, 3}, ""},
		{"enhanced mp4a", []byte{0x91, 'm', 'p', '4', 'a', 9}, tagFrame, []byte{9}, ""},
		{"mp3", []byte{0x2f, 1, 2}, 0, nil, "unsupported audio codec 2"},
		{"opus", []byte{0x91, 'O', 'p', 'u', 's'}, 0, nil, "unsupported audio codec Opus"},
		{"empty", nil, 0, nil, "empty audio tag"},
		{"short aac", []byte{0xaf}, 0, nil, "AAC audio tag of 1 bytes"},
		{"bad packet type", aacTag(2, nil), 0, nil, "AAC packet type 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAudioTag(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.kind != tc.wantKind || !bytes.Equal(got.data, tc.wantData) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestParseASC(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"aac lc 44.1k stereo", testASC, true},
		{"aac lc 48k stereo", []byte{0x11, 0x90}, true},
		{"he-aac with extension", []byte{0x2b, 0x92, 0x08, 0x00}, true},
		{"escaped object type", []byte{0xf8, 0x0c, 0x88}, true},
		{"explicit frequency", []byte{0x17, 0x80, 0x00, 0xbb, 0x81, 0x00}, true},
		{"object type 0", []byte{0x01, 0x90}, false},
		{"frequency index 13", []byte{0x16, 0x90}, false},
		{"channel configuration 8", []byte{0x11, 0xc0}, false},
		{"one byte", []byte{0x12}, false},
		{"empty", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := parseASC(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
