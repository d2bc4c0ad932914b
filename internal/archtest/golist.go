package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Load runs `go list -json ./...` in dir (the module root) and returns the
// graph of the module's own imports in non-test code.
func Load(dir string) (Graph, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("archtest: go list: %w: %s", err, stderr.Bytes())
	}
	return parse(bytes.NewReader(out))
}

// listed is the part of `go list -json` output the checker reads.
type listed struct {
	ImportPath string
	Imports    []string
	Error      *struct{ Err string }
}

func parse(r io.Reader) (Graph, error) {
	g := Graph{}
	dec := json.NewDecoder(r)
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("archtest: go list output: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("archtest: %s: %s", p.ImportPath, p.Error.Err)
		}
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		g[rel] = nil
		for _, imp := range p.Imports {
			if r, ok := relative(imp); ok {
				g[rel] = append(g[rel], r)
			}
		}
	}
	if len(g) == 0 {
		return nil, errors.New("archtest: go list found no package of " + Module)
	}
	return g, nil
}

// relative returns path relative to Module, "" for the root package.
func relative(path string) (string, bool) {
	if path == Module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, Module+"/")
	return rel, ok
}
