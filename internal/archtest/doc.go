// Package archtest checks the import rules of ARCHITECTURE.md ("What may
// import what") against the module as it is: its test lists every
// package with `go list -json ./...`, builds the graph of the module's own
// imports (non-test code) and fails with the offending import chain when a
// package reaches one it must not. The same listing gives the module's
// main packages: each must live under cmd/ (internal/ holds shared code,
// never a program).
//
// The rules and the known debts (edges that break a rule today and are
// waiting for their fix) are the tables in rules.go; ARCHITECTURE.md
// states the same rules in prose. A debt that is paid is logged so that
// its line can be deleted; a new violation fails.
package archtest
