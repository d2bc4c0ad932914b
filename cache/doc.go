// Package cache is classmesh's tiered cache of immutable objects (CMAF
// segments, init segments, playlists).
//
// A Cache has a memory tier and an optional disk tier, each with its own
// byte budget and an S3-FIFO eviction policy (see DESIGN.md). It knows
// nothing about where bytes come from: Get takes a FillFunc that is run at
// most once at a time per key (single flight); every concurrent Get for the
// key streams the body from the same in-progress buffer while it is being
// written. A successful fill is stored in both tiers; a failed or short fill
// is never stored and the key stays cold.
//
// Disk bodies are files under Config.Dir in two-hex-digit shard
// directories, written to a temp file, fsynced and renamed into place; a
// bbolt index (Dir/index.db) maps keys to files, sizes, SHA-256 sums and
// access statistics. Each body is checked against its SHA-256 the first time
// it is opened in a process.
//
// Entries are reference counted: an evicted object stays readable by the
// entries that hold it until they are released.
package cache
