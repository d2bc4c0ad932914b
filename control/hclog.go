package control

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter sends raft's hclog output to a *slog.Logger at a fixed
// minimum level.
type hclogAdapter struct {
	l     *slog.Logger
	name  string
	level hclog.Level
	args  []any
}

// newHCLog adapts l to the hclog.Logger that raft's components take (the
// raft server and the network transport built on Config.StreamLayer),
// dropping lines below level.
func newHCLog(l *slog.Logger, level slog.Level) hclog.Logger {
	return &hclogAdapter{l: l, name: "raft", level: toHCLevel(level)}
}

func toHCLevel(l slog.Level) hclog.Level {
	switch {
	case l < slog.LevelDebug:
		return hclog.Trace
	case l < slog.LevelInfo:
		return hclog.Debug
	case l < slog.LevelWarn:
		return hclog.Info
	case l < slog.LevelError:
		return hclog.Warn
	}
	return hclog.Error
}

func toSlogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Info, hclog.NoLevel, hclog.DefaultLevel:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...interface{}) {
	if level == hclog.Off || level < a.level {
		return
	}
	all := append(append([]any{"component", a.name}, a.args...), args...)
	a.l.Log(context.Background(), toSlogLevel(level), msg, all...)
}

func (a *hclogAdapter) Trace(msg string, args ...interface{}) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...interface{}) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...interface{})  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...interface{})  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...interface{}) { a.Log(hclog.Error, msg, args...) }
func (a *hclogAdapter) IsTrace() bool                         { return a.level <= hclog.Trace }
func (a *hclogAdapter) IsDebug() bool                         { return a.level <= hclog.Debug }
func (a *hclogAdapter) IsInfo() bool                          { return a.level <= hclog.Info }
func (a *hclogAdapter) IsWarn() bool                          { return a.level <= hclog.Warn }
func (a *hclogAdapter) IsError() bool                         { return a.level <= hclog.Error }
func (a *hclogAdapter) ImpliedArgs() []interface{}            { return a.args }
func (a *hclogAdapter) Name() string                          { return a.name }
func (a *hclogAdapter) SetLevel(level hclog.Level)            { a.level = level }
func (a *hclogAdapter) GetLevel() hclog.Level                 { return a.level }

func (a *hclogAdapter) With(args ...interface{}) hclog.Logger {
	c := *a
	c.args = append(append([]any(nil), a.args...), args...)
	return &c
}

func (a *hclogAdapter) Named(name string) hclog.Logger {
	c := *a
	c.name = a.name + "." + name
	return &c
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(a.l.Handler(), toSlogLevel(a.level))
}

func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return a.StandardLogger(opts).Writer()
}
