package artifacttest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/artifact"
)

// DeterministicReader returns size pseudo-random bytes (xorshift64* from
// seed) without holding them: the same seed gives the same stream. Use it to
// stream large objects in tests and benchmarks.
type DeterministicReader struct {
	state uint64
	left  int64
	buf   [8]byte
	off   int // next unread byte of buf; 8 = empty
}

// NewDeterministicReader returns a reader of size bytes derived from seed.
func NewDeterministicReader(seed uint64, size int64) *DeterministicReader {
	return &DeterministicReader{state: seed | 1, left: size, off: 8}
}

// Read fills p with the next bytes of the stream.
func (d *DeterministicReader) Read(p []byte) (int, error) {
	if d.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n := 0
	for n < len(p) && d.off < 8 { // drain the partial word
		p[n] = d.buf[d.off]
		n++
		d.off++
	}
	for ; n+8 <= len(p); n += 8 {
		binary.LittleEndian.PutUint64(p[n:], d.next())
	}
	if n < len(p) {
		binary.LittleEndian.PutUint64(d.buf[:], d.next())
		d.off = 0
		for n < len(p) {
			p[n] = d.buf[d.off]
			n++
			d.off++
		}
	}
	d.left -= int64(n)
	return n, nil
}

func (d *DeterministicReader) next() uint64 {
	d.state ^= d.state >> 12
	d.state ^= d.state << 25
	d.state ^= d.state >> 27
	return d.state * 2685821657736338717
}

// heapWatch samples the live heap until stopped and reports its peak. It
// reads the heap the last GC found live, not the current heap, which also
// holds garbage awaiting collection (up to GOGC% more): a store that buffers
// the object keeps it live across GCs and shows here; one that streams
// through fixed buffers does not.
type heapWatch struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

const heapMetric = "/gc/heap/live:bytes"

// watchHeap starts sampling after two GCs (the second empties sync.Pool
// victim caches that earlier tests filled), from a baseline done subtracts.
func watchHeap() *heapWatch {
	runtime.GC()
	runtime.GC()
	h := &heapWatch{stop: make(chan struct{})}
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	h.base = s[0].Value.Uint64()
	h.wg.Go(func() {
		s := []metrics.Sample{{Name: heapMetric}}
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	})
	return h
}

// done stops sampling and returns the peak growth of the live heap.
func (h *heapWatch) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return max(h.peak.Load(), h.base) - h.base
}

func testLarge(t *testing.T, s artifact.Store, size int64) {
	if testing.Short() {
		t.Skipf("streams a %d MiB object; skipped under -short", size>>20)
	}
	const seed = 42
	h := sha256.New()
	if _, err := io.Copy(h, NewDeterministicReader(seed, size)); err != nil {
		t.Fatal(err)
	}
	want := artifact.DigestPrefix + hex.EncodeToString(h.Sum(nil))
	// The heap may hold buffers (a multipart part, copy buffers) but never
	// a sizeable share of the object: a quarter is far above any sane
	// buffer and far below the whole.
	limit := uint64(size / 4)

	w := watchHeap()
	obj, err := s.Put(context.Background(), "big/model.bin", NewDeterministicReader(seed, size))
	peak := w.done()
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if obj.Size != size || obj.Digest != want {
		t.Fatalf("Put = size %d digest %s, want %d %s", obj.Size, obj.Digest, size, want)
	}
	t.Logf("Put of %d MiB: live heap grew by at most %.1f MiB", size>>20, float64(peak)/(1<<20))
	if peak > limit {
		t.Errorf("Put of a %d MiB object: live heap grew by %d MiB, want at most %d MiB (the store must stream, not buffer)",
			size>>20, peak>>20, limit>>20)
	}

	w = watchHeap()
	rc, oobj, err := s.Open(context.Background(), "big/model.bin")
	if err != nil {
		w.done()
		t.Fatalf("Open: %v", err)
	}
	d := artifact.NewDigestWriter(nil)
	_, err = io.Copy(d, rc)
	rc.Close()
	peak = w.done()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if oobj.Size != size || oobj.Digest != want || d.Size() != size || d.Digest() != want {
		t.Fatalf("Open = %d bytes digest %s (object %d %s), want %d %s", d.Size(), d.Digest(), oobj.Size, oobj.Digest, size, want)
	}
	t.Logf("Open of %d MiB: live heap grew by at most %.1f MiB", size>>20, float64(peak)/(1<<20))
	if peak > limit {
		t.Errorf("Open of a %d MiB object: live heap grew by %d MiB, want at most %d MiB", size>>20, peak>>20, limit>>20)
	}
}
