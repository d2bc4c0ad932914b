package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/node"
)

func TestRunCommands(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "Usage:"},
		{[]string{"version"}, 0, "classmesh dev"},
		{[]string{"help"}, 0, "classmesh serve"},
		{[]string{"help", "serve"}, 0, "-media"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"serve", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"serve", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "--media", "/x", "--origin-url", "http://h/"}, 1, "mutually exclusive"},
		{[]string{"serve", "--log-level", "loud"}, 2, "--log-level"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Fatalf("code %d (want %d), output:\n%s\nwant it to contain %q", code, tc.code, out.String(), tc.out)
			}
		})
	}
}

// TestFlagPrecedence: command line over CLASSMESH_* over the config file.
func TestFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "classmesh.json")
	os.WriteFile(file, []byte(`{"http": "127.0.0.1:1111", "segment-target": "4s", "cache-memory": 268435456, "data": "/from/file"}`), 0o644)
	t.Setenv("CLASSMESH_SEGMENT_TARGET", "3s")
	t.Setenv("CLASSMESH_DATA", "/from/env")
	cfg := node.DefaultConfig()
	var level, format, configFile string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveFlags(fs, &cfg, &level, &format, &configFile)
	if err := fs.Parse([]string{"--config", file, "--data", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	if err := applyFileAndEnv(fs, configFile); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/flag" || cfg.SegmentTarget != 3*time.Second || cfg.HTTPAddr != "127.0.0.1:1111" || cfg.MemoryCacheBytes != 256<<20 {
		t.Fatalf("got data=%q target=%v http=%q mem=%d", cfg.DataDir, cfg.SegmentTarget, cfg.HTTPAddr, cfg.MemoryCacheBytes)
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown key": `{"no-such-flag": 1}`,
		"bad json":    `{"http": `,
		"bad value":   `{"segment-target": "soon"}`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
			os.WriteFile(file, []byte(body), 0o644)
			var out bytes.Buffer
			if code := run([]string{"serve", "--config", file}, &out, &out); code != 2 {
				t.Fatalf("code %d, output %s", code, out.String())
			}
		})
	}
}
