package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// cursorTrack is a track with a one-minute window of 2 s segments of
// four parts, and a fake clock for hole timeouts.
func cursorTrack(dvr time.Duration) (*Track, *fakeClock) {
	clock := newFakeClock()
	return newTrack("video", trackConfig{dvr: dvr, gapTimeout: time.Second, now: clock.Now}), clock
}

// putInitRaw stores init bytes under id without parsing them.
func putInitRaw(tr *Track, id uint32, b string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.inits[id] = []byte(b)
	tr.lastInit = id
	tr.notifyLocked()
}

func cursorPart(msn int64, index int, initID uint32) Part {
	return Part{MSN: msn, Index: index, Duration: 500 * time.Millisecond, InitID: initID,
		SegmentEnd: index == 3, SegmentDuration: 2 * time.Second, TargetDuration: 2,
		PartTarget: 500 * time.Millisecond, Data: []byte(fmt.Sprintf("%d.%d", msn, index))}
}

// putSegments lists segments from..to (inclusive) with init initID.
func putSegments(t testing.TB, tr *Track, from, to int64, initID uint32) {
	t.Helper()
	for m := from; m <= to; m++ {
		for i := range 4 {
			if err := tr.PutPart(cursorPart(m, i, initID)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// describe renders an event compactly: "I1", "P0.2", "E0", "E3g", "S0.0>5.0".
func describe(ev Event) string {
	switch ev.Kind {
	case EventInit:
		return fmt.Sprintf("I%d", ev.InitID)
	case EventPart:
		return "P" + ev.At.String()
	case EventSegmentEnd:
		if ev.Gap {
			return fmt.Sprintf("E%dg", ev.At.MSN)
		}
		return fmt.Sprintf("E%d", ev.At.MSN)
	case EventSkip:
		return "S" + ev.From.String() + ">" + ev.At.String()
	}
	return "?"
}

// drain reads events until the cursor would block (or n events).
func drain(t *testing.T, c *Cursor, n int) (string, error) {
	t.Helper()
	var out []string
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		ev, err := c.Next(ctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return strings.Join(out, " "), nil
			}
			return strings.Join(out, " "), err
		}
		out = append(out, describe(ev))
	}
	return strings.Join(out, " "), nil
}

func TestCursor(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, tr *Track, clock *fakeClock)
		dvr     time.Duration
		cursor  func(tr *Track) *Cursor
		want    string
		wantErr error
	}{
		{
			name: "in order with the init first",
			setup: func(t *testing.T, tr *Track, _ *fakeClock) {
				putInitRaw(tr, 1, "init1")
				putSegments(t, tr, 0, 1, 1)
			},
			cursor: func(tr *Track) *Cursor { return tr.Cursor(FromOldest) },
			want:   "I1 P0.0 P0.1 P0.2 P0.3 E0 P1.0 P1.1 P1.2 P1.3 E1",
		},
		{
			name: "an init change comes before the part that needs it",
			setup: func(t *testing.T, tr *Track, _ *fakeClock) {
				putInitRaw(tr, 1, "init1")
				putSegments(t, tr, 0, 0, 1)
				putInitRaw(tr, 2, "init2")
				putSegments(t, tr, 1, 1, 2)
			},
			cursor: func(tr *Track) *Cursor { return tr.Cursor(FromOldest) },
			want:   "I1 P0.0 P0.1 P0.2 P0.3 E0 I2 P1.0 P1.1 P1.2 P1.3 E1",
		},
		{
			name: "a late joiner starts at the newest complete segment",
			setup: func(t *testing.T, tr *Track, _ *fakeClock) {
				putInitRaw(tr, 1, "init1")
				putSegments(t, tr, 0, 2, 1)
				_ = tr.PutPart(cursorPart(3, 0, 1))
			},
			cursor: func(tr *Track) *Cursor { return tr.Cursor(FromLive) },
			want:   "I1 P2.0 P2.1 P2.2 P2.3 E2 P3.0",
		},
		{
			name: "a reader behind the window is told where it resumes",
			dvr:  6 * time.Second,
			setup: func(t *testing.T, tr *Track, _ *fakeClock) {
				putSegments(t, tr, 0, 9, 0)
			},
			cursor: func(tr *Track) *Cursor { return tr.CursorAt(1, 2) },
			want:   "S1.2>7.0 P7.0 P7.1 P7.2 P7.3 E7 P8.0 P8.1 P8.2 P8.3 E8 P9.0 P9.1 P9.2 P9.3 E9",
		},
		{
			name: "end closes the open segment, then ErrEnded",
			setup: func(t *testing.T, tr *Track, _ *fakeClock) {
				putSegments(t, tr, 0, 0, 0)
				_ = tr.PutPart(cursorPart(1, 0, 0))
				_ = tr.PutPart(cursorPart(1, 1, 0))
				tr.End()
			},
			cursor:  func(tr *Track) *Cursor { return tr.CursorAt(1, 0) },
			want:    "P1.0 P1.1 E1",
			wantErr: ErrEnded,
		},
		{
			name: "a hole given up is a gap segment",
			setup: func(t *testing.T, tr *Track, clock *fakeClock) {
				putSegments(t, tr, 0, 0, 0)
				_ = tr.PutPart(cursorPart(1, 0, 0))
				// 1.1 to 1.3 and segment 2 are lost; 3 arrives late.
				_ = tr.PutPart(cursorPart(3, 0, 0))
				clock.Add(2 * time.Second)
				_ = tr.PutPart(cursorPart(3, 1, 0))
			},
			cursor: func(tr *Track) *Cursor { return tr.CursorAt(1, 0) },
			want:   "P1.0 E1g E2g P3.0 P3.1",
		},
		{
			name:   "an empty track blocks",
			setup:  func(*testing.T, *Track, *fakeClock) {},
			cursor: func(tr *Track) *Cursor { return tr.Cursor(FromLive) },
			want:   "",
		},
		{
			name:    "an empty ended track ends",
			setup:   func(_ *testing.T, tr *Track, _ *fakeClock) { tr.End() },
			cursor:  func(tr *Track) *Cursor { return tr.Cursor(FromOldest) },
			want:    "",
			wantErr: ErrEnded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, clock := cursorTrack(cmpOr(tc.dvr, time.Minute))
			tc.setup(t, tr, clock)
			got, err := drain(t, tc.cursor(tr), 100)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("events %q, %v\nwant   %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func cmpOr(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

// TestCursorWakes: a blocked Next returns as soon as the part is put, and
// a cancelled context unblocks it.
func TestCursorWakes(t *testing.T) {
	tr, _ := cursorTrack(time.Minute)
	c := tr.Cursor(FromOldest)
	got := make(chan Event, 1)
	go func() {
		ev, err := c.Next(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- ev
	}()
	_ = tr.PutPart(cursorPart(4, 0, 0))
	if ev := <-got; ev.Kind != EventPart || ev.At != (Position{4, 0}) {
		t.Fatalf("event %+v", ev)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context: %v", err)
	}
}

// TestCursorRace: readers follow a track while a writer fills it and the
// window slides; each sees increasing positions, every part of a
// segment it did not skip, and ErrEnded at the end. Run with -race.
func TestCursorRace(t *testing.T) {
	tr, _ := cursorTrack(6 * time.Second)
	const segments = 200
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := tr.Cursor(Start(r % 2))
			last := Position{-1, 0}
			for {
				ev, err := c.Next(ctx)
				if errors.Is(err, ErrEnded) {
					if last.MSN != segments-1 {
						errs <- fmt.Errorf("reader %d ended at %v", r, last)
					}
					return
				}
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				switch ev.Kind {
				case EventPart:
					if !(last.MSN < ev.At.MSN && ev.At.Index == 0 || last.MSN == ev.At.MSN && last.Index+1 == ev.At.Index) {
						errs <- fmt.Errorf("reader %d: part %v after %v", r, ev.At, last)
						return
					}
					if string(ev.Part.Data) != ev.At.String() {
						errs <- fmt.Errorf("reader %d: part %v holds %q", r, ev.At, ev.Part.Data)
						return
					}
					last = ev.At
				case EventSkip:
					if ev.At.MSN <= last.MSN {
						errs <- fmt.Errorf("reader %d: skip back to %v from %v", r, ev.At, last)
						return
					}
					last = Position{ev.At.MSN - 1, 3}
				}
			}
		}()
	}
	putSegments(t, tr, 0, segments-1, 0)
	tr.End()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSessionWaitTrack: WaitTrack returns once the packager or the relay
// adds the track, and ErrEnded when the session ends first; Done closes.
func TestSessionWaitTrack(t *testing.T) {
	m := newTestManager(t, Config{})
	s, err := m.Remote("wait")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := s.WaitTrack(context.Background(), RenditionAudio)
		got <- err
	}()
	if _, err := s.AddTrack(RenditionAudio); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("WaitTrack: %v", err)
	}
	go func() {
		_, err := s.WaitTrack(context.Background(), RenditionVideo)
		got <- err
	}()
	if err := m.End("wait"); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, ErrEnded) {
		t.Fatalf("WaitTrack on an ended session: %v", err)
	}
	<-s.Done()
}
