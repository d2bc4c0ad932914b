package peer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p"
	"github.com/classmesh/classmesh/p2p/wire"
)

// BenchmarkPeerTransfer measures one 750 kB segment (2 s at 3 Mbit/s)
// moving over a data channel between two peers on loopback (SCTP over
// DTLS over UDP, pion), without rate caps.
func BenchmarkPeerTransfer(b *testing.B) {
	e := newEnv(b, p2p.DefaultConfig())
	src := e.newPeer(b, nil)
	dst := e.newPeer(b, nil)
	waitFor(b, 20*time.Second, "a data channel", linked(src, dst))
	const seq = 1000
	data := make([]byte, 750_000)
	_, _ = rand.Read(data)
	sum := sha256.Sum256(data)
	src.keep(seq, entry{data: data, source: wire.SourceHTTP}, nil)
	dst.hashes.putHex(seq, hex.EncodeToString(sum[:]), int64(len(data)))
	waitFor(b, 5*time.Second, "the have", func() bool {
		ls := dst.openLinks(nil)
		return len(ls) == 1 && ls[0].holds(seq)
	})
	l := dst.openLinks(nil)[0]
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := l.get(ctx, seq, int64(len(data)))
		if r.reason != "" || r.none || sha256.Sum256(r.data) != sum {
			b.Fatalf("transfer failed: %q", r.reason)
		}
	}
}
