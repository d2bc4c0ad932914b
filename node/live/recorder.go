package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Recording is what a session leaves behind: a directory of fragmented MP4
// files, one per rendition (video.mp4, audio.mp4), that node/vod opens as
// one asset. A codec configuration change mid-session starts a new file
// for that rendition (video-2.mp4, ...), since one MP4 file has one init.
type Recording struct {
	// Dir is the recording directory (RecordDir/{session}, or
	// RecordDir/{session}-{n} when that name was taken by an earlier
	// session with the same ID). Empty when recording was disabled.
	Dir string
	// Files are the file names in Dir in the order they were created.
	Files []string
	// Duration is the recorded media duration of the leading rendition.
	Duration time.Duration
	// Start and End are the wall-clock times of the session.
	Start, End time.Time
	// Err is the first write error, after which recording stopped.
	Err error
}

// recFile is the file one rendition is being recorded to.
type recFile struct {
	f      *os.File
	initID uint32
	count  int // files made for this rendition
}

// recorder appends every part to the session's recording.
type recorder struct {
	dir   string
	files map[string]*recFile
	names []string
	dur   map[string]time.Duration
	err   error
}

// newRecorder creates a fresh recording directory for session id under
// root.
func newRecorder(root, id string) (*recorder, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("live: recording: %w", err)
	}
	name := id
	for n := 2; ; n++ {
		err := os.Mkdir(filepath.Join(root, name), 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) || n > 1000 {
			return nil, fmt.Errorf("live: recording: %w", err)
		}
		name = id + "-" + strconv.Itoa(n)
	}
	return &recorder{dir: filepath.Join(root, name), files: map[string]*recFile{}, dur: map[string]time.Duration{}}, nil
}

// write appends p to the rendition's file, starting a file with init when
// the part needs a different init than the file has.
func (r *recorder) write(rendition string, p Part, init func(uint32) ([]byte, bool)) {
	if r.err != nil || p.Gap {
		r.dur[rendition] += p.Duration
		return
	}
	rf := r.files[rendition]
	if rf == nil || rf.initID != p.InitID {
		if rf == nil {
			rf = &recFile{}
			r.files[rendition] = rf
		}
		b, ok := init(p.InitID)
		if !ok {
			r.err = fmt.Errorf("live: recording %s: init %08x unknown", rendition, p.InitID)
			return
		}
		if r.err = r.open(rendition, rf, b); r.err != nil {
			return
		}
		rf.initID = p.InitID
	}
	if _, err := rf.f.Write(p.Data); err != nil {
		r.err = fmt.Errorf("live: recording %s: %w", rendition, err)
		return
	}
	r.dur[rendition] += p.Duration
}

// open closes rf's current file and starts the next one with init.
func (r *recorder) open(rendition string, rf *recFile, init []byte) error {
	if rf.f != nil {
		if err := closeFile(rf.f); err != nil {
			return err
		}
	}
	rf.count++
	name := rendition + ".mp4"
	if rf.count > 1 {
		name = rendition + "-" + strconv.Itoa(rf.count) + ".mp4"
	}
	f, err := os.OpenFile(filepath.Join(r.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("live: recording: %w", err)
	}
	rf.f = f
	r.names = append(r.names, name)
	if _, err := f.Write(init); err != nil {
		return fmt.Errorf("live: recording %s: %w", name, err)
	}
	return nil
}

func closeFile(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("live: recording: %w", err)
	}
	return nil
}

// finish closes every file and describes the recording.
func (r *recorder) finish() Recording {
	for _, rf := range r.files {
		if rf.f != nil {
			if err := closeFile(rf.f); err != nil && r.err == nil {
				r.err = err
			}
			rf.f = nil
		}
	}
	d := r.dur["video"]
	if d == 0 {
		d = r.dur["audio"]
	}
	return Recording{Dir: r.dir, Files: append([]string(nil), r.names...), Duration: d, Err: r.err}
}
