package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
)

// Logs writes the current attempt's output to w: each replica's stdout and
// stderr, interleaved as written. With several replicas every line is
// prefixed by "[<replica>] "; without follow the replicas come one after
// the other, with follow lines come as they are written. Follow returns
// once the job has ended and everything it wrote has been copied, or when
// ctx is done.
func (e *Executor) Logs(ctx context.Context, jobID string, follow bool, w io.Writer) error {
	e.mu.Lock()
	j, ok := e.jobs[jobID]
	if !ok {
		e.mu.Unlock()
		return fault.NotFound("job", jobID)
	}
	n, attempt := len(j.st.Replicas), j.st.Attempt
	e.mu.Unlock()
	out := &lineWriter{w: w}
	if !follow {
		for i := 0; i < n; i++ {
			if err := e.copyLog(e.paths.log(jobID, attempt, i), out.replica(i, n)); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := e.tail(ctx, e.paths.log(jobID, attempt, i), j.done, out.replica(i, n))
			if err != nil {
				cancel()
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return nil
}

func (e *Executor) copyLog(path string, w *replicaWriter) error {
	f, err := os.Open(path)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open job log: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return err
	}
	return w.flush()
}

// tail copies path to w as it grows until done is closed (then copies
// what is left) or ctx is done.
func (e *Executor) tail(ctx context.Context, path string, done <-chan struct{}, w *replicaWriter) error {
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		ended := false
		select {
		case <-done:
			ended = true
		default:
		}
		if f == nil {
			var err error
			f, err = os.Open(path)
			if err != nil && !isNotExist(err) {
				return fmt.Errorf("open job log: %w", err)
			}
		}
		if f != nil {
			for {
				n, err := f.Read(buf)
				if n > 0 {
					if _, werr := w.Write(buf[:n]); werr != nil {
						return werr
					}
				}
				if errors.Is(err, io.EOF) || n == 0 {
					break
				}
				if err != nil {
					return fmt.Errorf("read job log: %w", err)
				}
			}
		}
		if ended {
			return w.flush()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
		case <-time.After(e.cfg.PollInterval):
		}
	}
}

// lineWriter serialises the replicas' writes to w.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) replica(i, n int) *replicaWriter {
	rw := &replicaWriter{out: l}
	if n > 1 {
		rw.prefix = []byte(fmt.Sprintf("[%d] ", i))
	}
	return rw
}

// replicaWriter writes one replica's output; with a prefix it writes whole
// lines only (keeping a partial last line until it completes or flush).
type replicaWriter struct {
	out    *lineWriter
	prefix []byte
	buf    []byte
}

func (r *replicaWriter) Write(p []byte) (int, error) {
	if r.prefix == nil {
		r.out.mu.Lock()
		defer r.out.mu.Unlock()
		_, err := r.out.w.Write(p)
		return len(p), err
	}
	r.buf = append(r.buf, p...)
	i := bytes.LastIndexByte(r.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	err := r.emit(r.buf[:i+1])
	r.buf = append(r.buf[:0], r.buf[i+1:]...)
	return len(p), err
}

func (r *replicaWriter) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	err := r.emit(append(r.buf, '\n'))
	r.buf = r.buf[:0]
	return err
}

// emit writes complete lines, each prefixed.
func (r *replicaWriter) emit(lines []byte) error {
	var b bytes.Buffer
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		b.Write(r.prefix)
		b.Write(lines[:i+1])
		lines = lines[i+1:]
	}
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	_, err := r.out.w.Write(b.Bytes())
	return err
}
