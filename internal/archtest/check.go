package archtest

import (
	"fmt"
	"slices"
	"strings"
)

// Graph maps each package of the module (relative path) to the packages
// of the module it imports directly.
type Graph map[string][]string

// Violation is a chain of imports from a package to one a rule forbids.
type Violation struct {
	Rule  Rule
	Chain []string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (rule %q: %s)", strings.Join(v.Chain, " -> "), v.Rule.From, v.Rule.Why)
}

// Check returns every violation of rules in g, skipping the debt edges,
// and the debts that no package needs any more (their edge is gone). For
// each package it reports the shortest chain to each forbidden package it
// reaches.
func Check(g Graph, rules []Rule, debts []Debt) (violations []Violation, paid []Debt) {
	for _, d := range debts {
		if !owes(g, d) {
			paid = append(paid, d)
		}
	}
	skip := func(p, q string) bool {
		return slices.ContainsFunc(debts, func(d Debt) bool { return under(p, d.From) && under(q, d.To) })
	}
	pkgs := make([]string, 0, len(g))
	for p := range g {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, r := range rules {
		for _, p := range pkgs {
			if !under(p, r.From) || slices.Contains(r.Except, p) {
				continue
			}
			for _, chain := range forbidden(g, p, r.Not, skip) {
				violations = append(violations, Violation{Rule: r, Chain: chain})
			}
		}
	}
	return violations, paid
}

// forbidden walks g breadth-first from start, not following skipped edges
// nor going past a forbidden package, and returns the chain to each
// forbidden package reached.
func forbidden(g Graph, start string, not []string, skip func(p, q string) bool) [][]string {
	prev := map[string]string{start: ""}
	queue := []string{start}
	var out [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != start && underAny(p, not) {
			out = append(out, chain(prev, p))
			continue
		}
		for _, q := range g[p] {
			if _, seen := prev[q]; seen || skip(p, q) {
				continue
			}
			prev[q] = p
			queue = append(queue, q)
		}
	}
	return out
}

// owes reports whether some package under d.From still imports one under
// d.To.
func owes(g Graph, d Debt) bool {
	for p, imps := range g {
		if under(p, d.From) && slices.ContainsFunc(imps, func(q string) bool { return under(q, d.To) }) {
			return true
		}
	}
	return false
}

func chain(prev map[string]string, end string) []string {
	var c []string
	for p := end; p != ""; p = prev[p] {
		c = append(c, p)
	}
	slices.Reverse(c)
	return c
}

// StrayPrograms returns the main packages that are not under Programs:
// a program elsewhere (a load tool under internal/, say) is in the wrong
// room.
func StrayPrograms(mains []string) []string {
	var out []string
	for _, m := range mains {
		if !under(m, Programs) {
			out = append(out, m)
		}
	}
	return out
}
