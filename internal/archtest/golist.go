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
	"slices"
	"strings"
)

// Listing is what the checker reads from `go list`: the graph of the
// module's own imports in non-test code and its main packages.
type Listing struct {
	Graph Graph
	Mains []string // relative paths of the packages named main, sorted
}

// Load runs `go list -json ./...` in dir (the module root) and returns the
// graph of the module's own imports in non-test code.
func Load(dir string) (Graph, error) {
	l, err := List(dir)
	return l.Graph, err
}

// List runs `go list -json ./...` in dir (the module root) and returns the
// import graph and the main packages of the module.
func List(dir string) (Listing, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Name,Imports,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Listing{}, fmt.Errorf("archtest: go list: %w: %s", err, stderr.Bytes())
	}
	return parse(bytes.NewReader(out))
}

// listed is the part of `go list -json` output the checker reads.
type listed struct {
	ImportPath string
	Name       string
	Imports    []string
	Error      *struct{ Err string }
}

func parse(r io.Reader) (Listing, error) {
	g := Graph{}
	var mains []string
	dec := json.NewDecoder(r)
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return Listing{}, fmt.Errorf("archtest: go list output: %w", err)
		}
		if p.Error != nil {
			return Listing{}, fmt.Errorf("archtest: %s: %s", p.ImportPath, p.Error.Err)
		}
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		g[rel] = nil
		if p.Name == "main" {
			mains = append(mains, rel)
		}
		for _, imp := range p.Imports {
			if r, ok := relative(imp); ok {
				g[rel] = append(g[rel], r)
			}
		}
	}
	if len(g) == 0 {
		return Listing{}, errors.New("archtest: go list found no package of " + Module)
	}
	slices.Sort(mains)
	return Listing{Graph: g, Mains: mains}, nil
}

// relative returns path relative to Module, "" for the root package.
func relative(path string) (string, bool) {
	if path == Module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, Module+"/")
	return rel, ok
}
