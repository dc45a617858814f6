package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/project"
)

type anyone struct{}

func (anyone) Authenticate(context.Context, string) (identity.Principal, error) {
	return identity.Principal{Subject: "user:default/alice", Admin: true}, nil
}

// slowSaga is a project whose saga advances one step per Get, from 0.
// Only Get is used by the event stream.
type slowSaga struct{ gets atomic.Int32 }

func (s *slowSaga) Get(context.Context, identity.Principal, string) (project.Project, error) {
	n := int(s.gets.Add(1)) - 1
	p := project.Project{ID: "prj_slow", Team: "fraud", Name: "slow", Status: project.StatusRunning}
	for i, name := range project.StepNames {
		st := project.Step{Name: name, Status: project.StepPending}
		if i < n {
			st.Status = project.StepDone
		}
		p.Steps = append(p.Steps, st)
	}
	if n >= len(project.StepNames) {
		p.Status = project.StatusSucceeded
	}
	return p, nil
}

func (s *slowSaga) Create(context.Context, identity.Principal, project.CreateRequest) (project.Project, bool, error) {
	panic("unused")
}

func (s *slowSaga) List(context.Context, identity.Principal, string, pagination.Page) ([]project.Project, string, error) {
	panic("unused")
}

func (s *slowSaga) Retry(context.Context, identity.Principal, string) (project.Project, error) {
	panic("unused")
}

func (s *slowSaga) Delete(context.Context, identity.Principal, string) (project.Project, error) {
	panic("unused")
}

// The event stream outlives the server's WriteTimeout: it moves the write
// deadline forward as it goes.
func TestEventStreamOutlivesWriteTimeout(t *testing.T) {
	srv, err := httpapi.New(httpapi.Deps{Auth: anyone{}, Projects: &slowSaga{}, Registry: prometheus.NewRegistry(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.WriteTimeout = 300 * time.Millisecond // the saga takes about 0.8 s
	ts.Start()
	defer ts.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/api/v1/projects/prj_slow/events", nil)
	req.Header.Set("Authorization", "Bearer x")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("stream cut after %s: %v\n%s", time.Since(start), err, body)
	}
	if !strings.Contains(string(body), "event: done") || strings.Count(string(body), "event: step") != 2*len(project.StepNames) {
		t.Fatalf("stream after %s:\n%s", time.Since(start), body)
	}
}
