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
	skip := map[[2]string]bool{}
	for _, d := range debts {
		skip[[2]string{d.From, d.To}] = true
		if !slices.Contains(g[d.From], d.To) {
			paid = append(paid, d)
		}
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
func forbidden(g Graph, start string, not []string, skip map[[2]string]bool) [][]string {
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
			if _, seen := prev[q]; seen || skip[[2]string{p, q}] {
				continue
			}
			prev[q] = p
			queue = append(queue, q)
		}
	}
	return out
}

func chain(prev map[string]string, end string) []string {
	var c []string
	for p := end; p != ""; p = prev[p] {
		c = append(c, p)
	}
	slices.Reverse(c)
	return c
}
