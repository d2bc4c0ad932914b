package node

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzKeysRequest feeds arbitrary bodies to the key rotation endpoint (the
// decoder of its JSON, base64 keys and fingerprints): it must answer with a
// client error or success, never panic, and never echo key material.
func FuzzKeysRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"install","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"op":"use","fingerprint":"0011223344556677"}`,
		`{"op":"remove","key":"x","fingerprint":"y"}`,
		`{"op":"install","fingerprint":"00"}`,
		`{"op":"rotate"}`, `{}`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	n := mustNewNode(f, Config{MediaDir: demoDir(f)})
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/cluster/keys", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		(&clusterAPI{cluster: n.cluster, logger: n.logger}).handleKeys(w, r)
		if w.Code >= 500 && w.Code != http.StatusBadGateway {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		for _, k := range keyForms(n.Cluster().ListKeys()) {
			if bytes.Contains(w.Body.Bytes(), []byte(k)) {
				t.Fatalf("answer to %q contains key material", body)
			}
		}
	})
}
