package archtest

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// TestImportRules checks the module as it is against ARCHITECTURE.md:
// the import rules, and that every program lives under cmd/.
func TestImportRules(t *testing.T) {
	l, err := List(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	g := l.Graph
	if !slices.Contains(l.Mains, "cmd/classmesh") {
		t.Fatalf("go list did not list cmd/classmesh as a main package: %v", l.Mains)
	}
	for _, p := range StrayPrograms(l.Mains) {
		t.Errorf("program outside %s/: %s (internal/ holds shared code, programs live in %s/)", Programs, p, Programs)
	}
	for _, must := range []string{"cluster", "node", "node/origin/remote", "cache", "control", "internal/frame"} {
		if _, ok := g[must]; !ok {
			t.Fatalf("go list did not list %s: %v", must, g)
		}
	}
	violations, paid := Check(g, Rules, Debts)
	for _, v := range violations {
		t.Errorf("forbidden import: %s", v)
	}
	for _, d := range paid {
		t.Logf("debt paid, delete it from Debts: %s -> %s", d.From, d.To)
	}
}

// The checker itself, on small graphs: it finds the chain, honours
// Except and the debts, and reports paid debts.
func TestCheck(t *testing.T) {
	clusterRule := Rule{From: "cluster", Not: []string{"node"}}
	nodeRule := Rule{From: "node", Except: []string{"node"}, Not: []string{"cluster"}}
	for _, tc := range []struct {
		name  string
		g     Graph
		rules []Rule
		debts []Debt
		want  [][]string
		paid  []Debt
	}{
		{
			name:  "cluster importing an origin, as before issue 12",
			g:     Graph{"cluster": {"node/origin"}, "node/origin": {"internal/ident"}, "internal/ident": nil},
			rules: []Rule{clusterRule},
			want:  [][]string{{"cluster", "node/origin"}},
		},
		{
			name:  "through another package",
			g:     Graph{"cluster/fill": {"internal/x"}, "internal/x": {"node/vod"}, "node/vod": nil},
			rules: []Rule{clusterRule},
			want:  [][]string{{"cluster/fill", "internal/x", "node/vod"}},
		},
		{
			name:  "the composition root is exempt, its subpackages are not",
			g:     Graph{"node": {"cluster"}, "node/live": {"cluster/relay"}, "cluster": nil, "cluster/relay": nil},
			rules: []Rule{nodeRule},
			want:  [][]string{{"node/live", "cluster/relay"}},
		},
		{
			name:  "a package may sit under the tree it must not import",
			g:     Graph{"cluster/transport": {"internal/ident"}, "cluster": {"cluster/transport"}, "internal/ident": nil},
			rules: []Rule{{From: "cluster/transport", Not: []string{"cluster"}}},
		},
		{
			name:  "the transport reaching cluster through a sibling",
			g:     Graph{"cluster/transport": {"cluster/ring"}, "cluster/ring": {"cluster"}, "cluster": nil},
			rules: []Rule{{From: "cluster/transport", Not: []string{"cluster"}}},
			want:  [][]string{{"cluster/transport", "cluster/ring"}},
		},
		{
			name:  "a debt edge is skipped, also for importers",
			g:     Graph{"cluster": {"node"}, "cluster/x": {"cluster"}, "node": nil},
			rules: []Rule{clusterRule},
			debts: []Debt{{From: "cluster", To: "node"}},
		},
		{
			name:  "a debt covers the packages below its ends",
			g:     Graph{"internal/load": {"p2p/wire"}, "internal/load/d": {"p2p"}, "p2p": nil, "p2p/wire": nil},
			rules: []Rule{{From: "internal", Not: []string{"p2p"}}},
			debts: []Debt{{From: "internal/load", To: "p2p"}},
		},
		{
			name:  "a paid debt is reported",
			g:     Graph{"cluster": nil},
			rules: []Rule{clusterRule},
			debts: []Debt{{From: "cluster", To: "node"}},
			paid:  []Debt{{From: "cluster", To: "node"}},
		},
		{
			name:  "a prefix is not a parent",
			g:     Graph{"clusterx": {"node"}, "cluster": {"nodes"}, "node": nil, "nodes": nil},
			rules: []Rule{clusterRule},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, paid := Check(tc.g, tc.rules, tc.debts)
			var got [][]string
			for _, v := range vs {
				got = append(got, v.Chain)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(paid, tc.paid) {
				t.Fatalf("violations %v paid %v; want %v, %v", got, paid, tc.want, tc.paid)
			}
		})
	}
}

func TestStrayPrograms(t *testing.T) {
	for _, tc := range []struct {
		mains, want []string
	}{
		{mains: []string{"cmd/classmesh", "cmd/benchload", "cmd/benchload/x"}},
		{mains: []string{"cmd/classmesh", "internal/p2pload", "internal/p2pload/trackerd"}, want: []string{"internal/p2pload", "internal/p2pload/trackerd"}},
		{mains: []string{"cmdx/tool", ""}, want: []string{"cmdx/tool", ""}},
	} {
		if got := StrayPrograms(tc.mains); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("StrayPrograms(%q) = %q, want %q", tc.mains, got, tc.want)
		}
	}
}
