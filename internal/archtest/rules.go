package archtest

import "strings"

// Module is the module path every rule is relative to.
const Module = "github.com/classmesh/classmesh"

// Rule forbids packages under From to import, directly or through other
// packages of the module, any package under one of Not. Paths are
// relative to Module; a path matches itself and everything below it
// ("cluster" matches "cluster" and "cluster/ring"). Except lists
// packages exempt from the rule, matched exactly (the composition root
// "node", not its subpackages).
type Rule struct {
	From   string
	Not    []string
	Except []string
	Why    string
}

// Rules are the import rules of ARCHITECTURE.md.
var Rules = []Rule{
	{From: "cluster", Not: []string{"node", "control", "p2p", "player", "cache", "cmd"},
		Why: "cluster is membership, transport and cluster protocols; it knows no media, catalog or HTTP"},
	{From: "cluster/transport", Not: []string{"cluster"},
		Why: "the transport carries streams for everyone above it; membership, keys, verification and the protocols use it, never the reverse"},
	{From: "cluster/ring", Not: []string{"cluster/fill", "cluster/relay"},
		Why: "owner selection is a pure function of the member view; it calls no protocol"},
	{From: "cluster/fill", Not: []string{"cluster/ring", "cluster/relay"},
		Why: "the fill protocol is handed the owner; node asks the ring"},
	{From: "cluster/relay", Not: []string{"cluster/ring", "cluster/fill"},
		Why: "the relay stands on the transport alone; its resolver chooses upstreams"},
	{From: "node", Except: []string{"node"}, Not: []string{"control", "cluster", "p2p", "cmd"},
		Why: "node/ subpackages take small interfaces; only the composition root (package node) wires control and cluster"},
	{From: "cache", Not: []string{"node", "cluster", "control", "p2p", "player", "cmd"},
		Why: "cache is handed a fill function; it imports nothing of ours but internal/"},
	{From: "control", Not: []string{"node", "cluster", "p2p", "player", "cmd"},
		Why: "control is the catalog; it serves no media and takes the transport through interfaces"},
	{From: "internal", Not: []string{"node", "cluster", "control", "p2p", "player", "cache", "cmd"},
		Why: "internal/ holds small shared ideas that import nothing of ours outside internal/; programs live in cmd/"},
	{From: "p2p", Not: []string{"node", "cluster", "control", "cmd"},
		Why: "the tracker and the Go peer are reached by node, never the reverse"},
}

// Debt is an import that breaks a rule today: packages under From
// importing packages under To (paths relative to Module, matched like a
// Rule's). The checker skips those edges; everything that reaches a
// forbidden package only through them passes.
type Debt struct {
	From, To string
	Why      string
}

// Debts are the known exceptions, each with the issue that pays it.
var Debts = []Debt{
	{From: "node/internal/livebridge", To: "cluster",
		Why: "the live bridge uses cluster/relay's object and cluster's member types; issue 12 gives it relay and membership interfaces of its own"},
	{From: "node/internal/livebridge", To: "control",
		Why: "the live bridge reads and updates control.LiveSession; issue 12 moves the stream-key and session views into control"},
}

// Programs is where main packages live: every program of the module,
// the classmesh binary and the load tools of the benchmarks alike, is a
// directory under it. internal/ holds no program (see Mains).
const Programs = "cmd"

// under reports whether pkg is p or below p.
func under(pkg, p string) bool {
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}

func underAny(pkg string, ps []string) bool {
	for _, p := range ps {
		if under(pkg, p) {
			return true
		}
	}
	return false
}
