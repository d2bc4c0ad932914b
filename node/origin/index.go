package origin

import (
	"bytes"
	"html"
	"net/url"
	"slices"
	"strings"
)

// indexEntry is one child of a directory found in an HTML index page.
type indexEntry struct {
	Name string // decoded name, without a trailing slash
	Dir  bool   // the link ends with "/"
}

// parseIndex extracts the direct children of the directory dir from an
// HTML directory index (nginx autoindex, Apache mod_autoindex, python
// http.server and similar): every <a href="..."> whose target, resolved
// against dir, is a direct child of dir on the same host. Parent links,
// links with a query or fragment only (sorting links), hidden names and
// names containing a slash, backslash or NUL are ignored. The result is
// sorted by name and free of duplicates.
func parseIndex(body []byte, dir *url.URL) []indexEntry {
	var out []indexEntry
	for _, href := range hrefs(body) {
		if e, ok := childOf(href, dir); ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b indexEntry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if a.Dir == b.Dir {
			return 0
		}
		if a.Dir {
			return 1
		}
		return -1
	})
	return slices.Compact(out)
}

// childOf resolves href against dir and reports the child it names.
func childOf(href string, dir *url.URL) (indexEntry, bool) {
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil || ref.RawQuery != "" || ref.ForceQuery {
		return indexEntry{}, false
	}
	u := dir.ResolveReference(ref)
	if u.Scheme != dir.Scheme || u.Host != dir.Host || u.User.String() != dir.User.String() {
		return indexEntry{}, false
	}
	base := dir.EscapedPath()
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), base)
	if !ok || rest == "" {
		return indexEntry{}, false
	}
	isDir := strings.HasSuffix(rest, "/")
	rest = strings.TrimSuffix(rest, "/")
	name, err := url.PathUnescape(rest)
	if err != nil || name == "" || strings.ContainsAny(name, "/\\\x00") {
		return indexEntry{}, false
	}
	if checkPath(name) != nil {
		return indexEntry{}, false
	}
	return indexEntry{Name: name, Dir: isDir}, true
}

// hrefs returns the unescaped href attribute values of the <a> tags in an
// HTML document. It is a small tolerant scanner, not a full HTML parser:
// comments are skipped, attribute values may be double-, single- or
// unquoted.
func hrefs(body []byte) []string {
	var out []string
	for len(body) > 0 {
		i := bytes.IndexByte(body, '<')
		if i < 0 {
			break
		}
		body = body[i+1:]
		if bytes.HasPrefix(body, []byte("!--")) {
			end := bytes.Index(body[3:], []byte("-->"))
			if end < 0 {
				break
			}
			body = body[3+end+3:]
			continue
		}
		if len(body) < 2 || (body[0] != 'a' && body[0] != 'A') || !isSpace(body[1]) {
			continue
		}
		var attrs []byte
		if end := bytes.IndexByte(body, '>'); end >= 0 {
			attrs, body = body[2:end], body[end+1:]
		} else {
			attrs, body = body[2:], nil
		}
		if v, ok := attr(attrs, "href"); ok {
			out = append(out, html.UnescapeString(v))
		}
	}
	return out
}

// attr finds the attribute name (lower case) in the inside of a tag.
func attr(s []byte, name string) (string, bool) {
	for {
		s = bytes.TrimLeftFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) || r == '/' })
		if len(s) == 0 {
			return "", false
		}
		n := 0
		for n < len(s) && s[n] != '=' && !isSpace(s[n]) && s[n] != '/' {
			n++
		}
		key := strings.ToLower(string(s[:n]))
		s = bytes.TrimLeft(s[n:], " \t\r\n\f")
		if len(s) == 0 || s[0] != '=' {
			if n == 0 { // stray character; skip it
				s = s[min(1, len(s)):]
			}
			continue
		}
		var val []byte
		val, s = attrValue(bytes.TrimLeft(s[1:], " \t\r\n\f"))
		if key == name {
			return string(val), true
		}
	}
}

// attrValue splits an attribute value from the rest of the tag.
func attrValue(s []byte) (val, rest []byte) {
	if len(s) == 0 {
		return nil, nil
	}
	if q := s[0]; q == '"' || q == '\'' {
		end := bytes.IndexByte(s[1:], q)
		if end < 0 {
			return s[1:], nil
		}
		return s[1 : 1+end], s[2+end:]
	}
	n := 0
	for n < len(s) && !isSpace(s[n]) {
		n++
	}
	return s[:n], s[n:]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
