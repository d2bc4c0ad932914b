package origin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Mount is an origin whose files appear under Prefix in a Union. The empty
// prefix mounts an origin at the root.
type Mount struct {
	// Prefix is one path segment ("_recordings") or "" for the root.
	Prefix string
	Origin Origin
}

// Union shows several origins as one library: the node's media library
// and the recordings of live sessions, for example. Assets keep their IDs;
// when two mounts list the same ID the earlier mount wins. File paths of a
// prefixed mount carry its prefix, so Open finds the right origin.
type Union struct {
	mounts []Mount

	mu    sync.Mutex
	owner map[string]int // file path → mount index, from the last List
}

var _ Origin = (*Union)(nil)

// NewUnion returns a union of the mounts, in priority order. At most one
// mount may have the empty prefix; prefixes must be single path segments.
func NewUnion(mounts ...Mount) (*Union, error) {
	seen := map[string]bool{}
	for _, m := range mounts {
		if m.Origin == nil {
			return nil, fmt.Errorf("origin: union: mount %q has no origin", m.Prefix)
		}
		if strings.ContainsAny(m.Prefix, "/\\") || m.Prefix == "." || m.Prefix == ".." {
			return nil, fmt.Errorf("origin: union: bad prefix %q", m.Prefix)
		}
		if seen[m.Prefix] {
			return nil, fmt.Errorf("origin: union: prefix %q mounted twice", m.Prefix)
		}
		seen[m.Prefix] = true
	}
	return &Union{mounts: mounts}, nil
}

// List merges the mounts' assets, sorted by ID.
func (u *Union) List(ctx context.Context) ([]AssetSpec, error) {
	byID := map[string]bool{}
	owner := map[string]int{}
	var out []AssetSpec
	for mi, m := range u.mounts {
		specs, err := m.Origin.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range specs {
			if byID[s.ID] {
				continue
			}
			byID[s.ID] = true
			if m.Prefix != "" {
				files := make([]string, len(s.Files))
				for i, f := range s.Files {
					files[i] = m.Prefix + "/" + f
				}
				s.Files = files
			}
			for _, f := range s.Files {
				owner[f] = mi
			}
			out = append(out, s)
		}
	}
	sortSpecs(out)
	u.mu.Lock()
	u.owner = owner
	u.mu.Unlock()
	return out, nil
}

// Open opens path in the mount that listed it; a path not listed yet goes
// to the mount its first segment names, else to the root mount. (The root
// mount may itself list prefixed paths: a remote origin whose library is a
// union too.)
func (u *Union) Open(ctx context.Context, path string) (Object, error) {
	u.mu.Lock()
	mi, listed := u.owner[path]
	u.mu.Unlock()
	if listed {
		m := u.mounts[mi]
		if m.Prefix == "" {
			return m.Origin.Open(ctx, path)
		}
		return m.Origin.Open(ctx, strings.TrimPrefix(path, m.Prefix+"/"))
	}
	first, rest, ok := strings.Cut(path, "/")
	var root Origin
	for _, m := range u.mounts {
		if m.Prefix == "" {
			root = m.Origin
		} else if ok && m.Prefix == first {
			return m.Origin.Open(ctx, rest)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("origin: union: %q: %w", path, ErrNotFound)
	}
	return root.Open(ctx, path)
}

// String describes the union for logs.
func (u *Union) String() string {
	parts := make([]string, len(u.mounts))
	for i, m := range u.mounts {
		parts[i] = m.Origin.String()
		if m.Prefix != "" {
			parts[i] = m.Prefix + "=" + parts[i]
		}
	}
	return "union(" + strings.Join(parts, ", ") + ")"
}

func sortSpecs(s []AssetSpec) {
	slices.SortFunc(s, func(a, b AssetSpec) int { return strings.Compare(a.ID, b.ID) })
}
