package wire

import (
	"net/url"
	"strings"
)

// Swarm kinds: the first component of a swarm id.
const (
	KindVOD  = "vod"
	KindLive = "live"
)

// maxComponent bounds one component of a swarm id; maxSwarm the whole id.
const (
	maxComponent = 128
	maxSwarm     = 300
)

// ParseSwarm derives the swarm id from a media playlist or segment URL path
// (a full URL is accepted too; host and query are ignored):
//
//	/v/{asset}/{rendition}/{file}            → vod/{asset}/{rendition}
//	/t/{token}/v/{asset}/{rendition}/{file}  → vod/{asset}/{rendition}
//	/live/{session}/{rendition}/{file}       → live/{session}/{rendition}
//	/t/{token}/live/{session}/{rendition}/{file} → live/{session}/{rendition}
//
// ok is false for any other path or an invalid component.
func ParseSwarm(path string) (swarm string, ok bool) {
	if len(path) > 4096 {
		return "", false
	}
	if strings.Contains(path, "://") {
		u, err := url.Parse(path)
		if err != nil {
			return "", false
		}
		path = u.Path
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		return "", false
	}
	parts := strings.Split(path[1:], "/")
	if len(parts) == 6 && parts[0] == "t" && parts[1] != "" && (parts[2] == "v" || parts[2] == KindLive) {
		parts = parts[2:]
	}
	if len(parts) != 4 || parts[3] == "" {
		return "", false
	}
	var kind string
	switch parts[0] {
	case "v":
		kind = KindVOD
	case KindLive:
		kind = KindLive
	default:
		return "", false
	}
	if !validComponent(parts[1]) || !validComponent(parts[2]) {
		return "", false
	}
	return SwarmID(kind, parts[1], parts[2]), true
}

// SwarmID joins kind (KindVOD or KindLive), name (asset or session) and
// rendition into a swarm id. It does not validate: ValidSwarm does.
func SwarmID(kind, name, rendition string) string {
	return kind + "/" + name + "/" + rendition
}

// SplitSwarm splits a valid swarm id into kind (vod or live), name (asset
// or session) and rendition.
func SplitSwarm(swarm string) (kind, name, rendition string, ok bool) {
	if len(swarm) > maxSwarm {
		return "", "", "", false
	}
	parts := strings.Split(swarm, "/")
	if len(parts) != 3 || (parts[0] != KindVOD && parts[0] != KindLive) ||
		!validComponent(parts[1]) || !validComponent(parts[2]) {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// ValidSwarm reports whether s is a well-formed swarm id.
func ValidSwarm(s string) bool {
	_, _, _, ok := SplitSwarm(s)
	return ok
}

func validComponent(c string) bool {
	if c == "" || len(c) > maxComponent || c == "." || c == ".." {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '.', b == '_', b == '~', b == '-':
		default:
			return false
		}
	}
	return true
}
