package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestOpenAPIGolden(t *testing.T) {
	if *update {
		if err := writeOpenAPI(); err != nil {
			t.Fatal(err)
		}
		return // the embedded copy is refreshed at the next build
	}
	want, err := marshalOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, OpenAPI()) {
		t.Fatal("openapi.json is out of date: run go test ./control/api -run TestOpenAPIGolden -update")
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	h := NewHandler(Config{Reader: nopReader{}, Writer: nopWriter{}, Auth: anonAuth{}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi field = %q", doc.OpenAPI)
	}
	all := append(routes(), route{method: http.MethodGet, pattern: Prefix + "openapi.json"})
	for _, nr := range nodeRoutes {
		if !slices.ContainsFunc(all, func(rt route) bool { return rt.method == nr.method && rt.pattern == nr.pattern }) {
			all = append(all, route{method: nr.method, pattern: nr.pattern})
		}
	}
	for _, rt := range all {
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			op, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]
			if !ok {
				t.Fatalf("missing from openapi.json")
			}
			var o struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil || o.OperationID == "" || len(o.Responses) == 0 {
				t.Fatalf("incomplete operation: %s (%v)", op, err)
			}
		})
	}
	n := 0
	for _, item := range doc.Paths {
		n += len(item)
	}
	if n != len(all) {
		t.Fatalf("openapi.json has %d operations, handler serves %d", n, len(all))
	}
}
