package app

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/jobs"
)

// jobLogs archives each attempt's output in the artifact store, at
// jobs/<id>/attempt-<n>.log, so that `mlportal jobs logs` works after the
// executor has cleaned up, whichever executor ran the job.
type jobLogs struct{ store artifact.Store }

var _ jobs.LogArchive = jobLogs{}

func (l jobLogs) Save(ctx context.Context, jobID string, attempt int, r io.Reader) error {
	_, err := l.store.Put(ctx, path.Join("jobs", jobID, fmt.Sprintf("attempt-%d.log", attempt)), r)
	return err
}

// Open concatenates the attempts' output, oldest first, each under a
// header when there are several.
func (l jobLogs) Open(ctx context.Context, jobID string) (io.ReadCloser, error) {
	entries, err := l.store.List(ctx, path.Join("jobs", jobID))
	if err != nil {
		return nil, err
	}
	type attempt struct {
		n    int
		path string
	}
	var as []attempt
	for _, e := range entries {
		name := path.Base(e.Path)
		if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "attempt-"), ".log")); err == nil && !e.IsDir {
			as = append(as, attempt{n, e.Path})
		}
	}
	if len(as) == 0 {
		return nil, fault.New(fault.ErrNotFound, "job %s has no archived output", jobID)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].n < as[j].n })
	pr, pw := io.Pipe()
	go func() {
		for _, a := range as {
			if len(as) > 1 {
				fmt.Fprintf(pw, "==> attempt %d <==\n", a.n)
			}
			rc, _, err := l.store.Open(ctx, a.path)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(pw, rc)
			rc.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	return pr, nil
}
