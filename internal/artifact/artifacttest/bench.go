package artifacttest

import (
	"context"
	"io"
	"testing"

	"github.com/mlportal/mlportal/internal/artifact"
)

// BenchSize is the object size of the store benchmarks: 64 MiB.
const BenchSize = 64 << 20

// BenchmarkPut measures Put of a BenchSize object streamed from a
// deterministic reader (its generation cost is included; it is small next to
// hashing and I/O). Call it from a store's Benchmark function.
func BenchmarkPut(b *testing.B, s artifact.Store) {
	b.SetBytes(BenchSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(context.Background(), "bench/put.bin", NewDeterministicReader(uint64(i), BenchSize)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen measures Open and a full, verified read of a BenchSize
// object.
func BenchmarkOpen(b *testing.B, s artifact.Store) {
	if _, err := s.Put(context.Background(), "bench/open.bin", NewDeterministicReader(7, BenchSize)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(BenchSize)
	b.ReportAllocs()
	for b.Loop() {
		rc, _, err := s.Open(context.Background(), "bench/open.bin")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != BenchSize {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}
