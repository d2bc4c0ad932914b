package control

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/classmesh/classmesh/internal/ident"
)

// Field limits.
const (
	maxTitleLen    = 256
	maxTextLen     = 8192
	maxListLen     = 1000
	maxSourceLen   = 2048
	maxReasonLen   = 1024
	minSecretLen   = 16
	maxSecretLen   = 512
	maxRenditions  = 32
	maxDurationSec = 7 * 24 * 3600
)

// checkID checks an id of a record being applied: ident.CheckStored, the
// identifier rule without its first-character part, so that log entries
// written before the rule apply the same way everywhere. New ids get the
// whole rule (ident.Check) in Store.prepare, before they enter the log.
func checkID(field, id string) error {
	if err := ident.CheckStored(id); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

func checkText(field, s string, required bool, max int) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid(field, "must not be empty")
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "is %d characters, limit %d", n, max)
	}
	return nil
}

func checkEnum(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return invalid(field, "%q is not one of %s", v, strings.Join(allowed, "|"))
}

// checkIDs checks a list of ids: valid, unique, bounded.
func checkIDs(field string, ids []string) error {
	if len(ids) > maxListLen {
		return invalid(field, "has %d entries, limit %d", len(ids), maxListLen)
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if err := checkID(fmt.Sprintf("%s[%d]", field, i), id); err != nil {
			return err
		}
		if seen[id] {
			return invalid(field, "%q is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

func checkSeconds(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > maxDurationSec {
		return invalid(field, "must be between 0 and %d seconds", maxDurationSec)
	}
	return nil
}

func (c *Course) validate() error {
	return firstErr(
		checkID("id", c.ID),
		checkText("title", c.Title, true, maxTitleLen),
		checkText("description", c.Description, false, maxTextLen),
		checkEnum("visibility", c.Visibility, VisibilityPublic, VisibilityEnrolled, VisibilityPrivate),
		checkIDs("modules", c.Modules),
	)
}

func (m *Module) validate() error {
	return firstErr(
		checkID("id", m.ID),
		checkID("course_id", m.CourseID),
		checkText("title", m.Title, true, maxTitleLen),
		checkIDs("lessons", m.Lessons),
	)
}

func (l *Lesson) validate() error {
	if err := firstErr(
		checkID("id", l.ID),
		checkID("module_id", l.ModuleID),
		checkText("title", l.Title, true, maxTitleLen),
		checkID("asset_id", l.AssetID),
		checkIDs("prerequisites", l.Prerequisites),
	); err != nil {
		return err
	}
	if l.CourseID != "" {
		if err := checkID("course_id", l.CourseID); err != nil {
			return err
		}
	}
	for _, p := range l.Prerequisites {
		if p == l.ID {
			return invalid("prerequisites", "a lesson cannot be its own prerequisite")
		}
	}
	if len(l.Chapters) > maxListLen {
		return invalid("chapters", "has %d entries, limit %d", len(l.Chapters), maxListLen)
	}
	last := -1.0
	for i, ch := range l.Chapters {
		f := fmt.Sprintf("chapters[%d]", i)
		if err := firstErr(checkSeconds(f+".time", ch.Time), checkText(f+".title", ch.Title, true, maxTitleLen)); err != nil {
			return err
		}
		if ch.Time <= last {
			return invalid(f+".time", "chapters must be in increasing time order")
		}
		last = ch.Time
	}
	return nil
}

func (a *Asset) validate() error {
	if err := firstErr(
		checkID("id", a.ID),
		checkText("title", a.Title, true, maxTitleLen),
		checkSource(a.Source),
		checkSeconds("duration", a.Duration),
		checkEnum("status", a.Status, AssetPending, AssetReady, AssetFailed),
		checkText("reason", a.Reason, false, maxReasonLen),
	); err != nil {
		return err
	}
	if a.CourseID != "" {
		if err := checkID("course_id", a.CourseID); err != nil {
			return err
		}
	}
	if len(a.Renditions) > maxRenditions {
		return invalid("renditions", "has %d entries, limit %d", len(a.Renditions), maxRenditions)
	}
	for i, r := range a.Renditions {
		f := fmt.Sprintf("renditions[%d]", i)
		if err := firstErr(checkText(f+".name", r.Name, true, maxTitleLen), checkText(f+".codecs", r.Codecs, false, maxTitleLen),
			checkText(f+".path", r.Path, false, maxSourceLen)); err != nil {
			return err
		}
		if r.Width < 0 || r.Height < 0 || r.Bitrate < 0 {
			return invalid(f, "width, height and bitrate must not be negative")
		}
	}
	return nil
}

// checkSource accepts a relative media path without ".." or an http(s) URL.
func checkSource(s string) error {
	if err := checkText("source", s, true, maxSourceLen); err != nil {
		return err
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return invalid("source", "%q is not a valid URL", s)
		}
		return nil
	}
	if strings.HasPrefix(s, "/") || strings.Contains(s, "\x00") {
		return invalid("source", "must be a path relative to the media directory or an http(s) URL")
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			return invalid("source", "must not contain '..'")
		}
	}
	return nil
}

func (s *LiveSession) validate() error {
	if err := firstErr(
		checkID("id", s.ID),
		checkID("course_id", s.CourseID),
		checkText("title", s.Title, true, maxTitleLen),
		checkEnum("state", s.State, SessionScheduled, SessionLive, SessionEnded),
		checkHash("stream_key_hash", s.StreamKeyHash),
	); err != nil {
		return err
	}
	if s.ScheduledStart.IsZero() || s.ScheduledEnd.IsZero() {
		return invalid("scheduled_start", "scheduled_start and scheduled_end are required")
	}
	if !s.ScheduledEnd.After(s.ScheduledStart) {
		return invalid("scheduled_end", "must be after scheduled_start")
	}
	if s.RecordingAssetID != "" {
		if err := checkID("recording_asset", s.RecordingAssetID); err != nil {
			return err
		}
	}
	if s.IngestNode != "" && len(s.IngestNode) > 128 {
		return invalid("ingest_node", "at most 128 characters")
	}
	return nil
}

// checkHash accepts a lowercase hex SHA-256.
func checkHash(field, h string) error {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 || strings.ToLower(h) != h {
		return invalid(field, "must be a lowercase hex SHA-256")
	}
	return nil
}

func (s *Site) validate() error {
	if err := firstErr(
		checkID("name", s.Name),
		checkEnum("p2p_policy", s.P2PPolicy, P2POn, P2POff, P2PDownloadOnly),
	); err != nil {
		return err
	}
	if len(s.CIDRs) == 0 || len(s.CIDRs) > maxListLen {
		return invalid("cidrs", "must have between 1 and %d entries", maxListLen)
	}
	for i, c := range s.CIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return invalid(fmt.Sprintf("cidrs[%d]", i), "%q is not a CIDR: %v", c, err)
		}
		if p.Masked() != p {
			return invalid(fmt.Sprintf("cidrs[%d]", i), "%q has host bits set (use %s)", c, p.Masked())
		}
	}
	return nil
}

func (k *SigningKey) validate() error {
	if err := checkID("kid", k.KID); err != nil {
		return err
	}
	if n := len(k.Secret); n < minSecretLen || n > maxSecretLen {
		return invalid("secret", "must be between %d and %d bytes", minSecretLen, maxSecretLen)
	}
	if k.NotBefore.IsZero() || k.NotAfter.IsZero() {
		return invalid("not_before", "not_before and not_after are required")
	}
	if !k.NotAfter.After(k.NotBefore) {
		return invalid("not_after", "must be after not_before")
	}
	return nil
}

func (t *APIToken) validate() error {
	if err := firstErr(
		checkID("id", t.ID),
		checkHash("hash", t.Hash),
		checkEnum("role", t.Role, RoleAdmin, RoleInstructor),
		checkIDs("courses", t.Courses),
	); err != nil {
		return err
	}
	if t.Role == RoleInstructor && len(t.Courses) == 0 {
		return invalid("courses", "an instructor token needs at least one course")
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
