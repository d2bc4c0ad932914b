// Package systest holds the system tests that run classmesh as separate
// processes: it builds cmd/classmesh and starts real `classmesh serve`
// processes on 127.0.0.1, each with its own ports and t.TempDir().
//
//   - TestProcessCluster (cluster_process_test.go): an origin with the
//     demo media and three edges with none; `classmesh members`, serving
//     through the cluster, kill -9 of an edge under load, SIGTERM
//     (graceful leave, exit 0), and a node with the wrong secret that
//     cannot join.
//   - TestProcessRogueMember (rogue_process_test.go): a process holding
//     only the gossip key stays unverified: no raft vote, no ring share,
//     refused handshakes counted by reason, catalog writes keep working.
//   - TestLinearizableCatalogUnderLeaderKill (linearizable_test.go): a 3-
//     and a 5-voter catalog whose raft leader is killed -9 three times
//     while clients write and read; porcupine checks the history and no
//     acknowledged write may be lost. TestLinearizabilityCheckers shows
//     the checkers reject bad histories.
//
// The package has no code of its own and sees classmesh only from the
// outside (the binary, its flags, its HTTP API), so a test here needs
// nothing unexported. The other system tests, which run nodes in-process
// and read their internals or share their package's test harness, stay
// next to their code; ARCHITECTURE.md ("System tests") lists them all and
// `make systest` runs them together.
package systest
