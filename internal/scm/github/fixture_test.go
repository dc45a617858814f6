package github_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scm/github"
	"github.com/mlportal/mlportal/internal/scm/github/githubtest"
)

const org = "acme"

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// skeleton is a rendered project skeleton in miniature: nested paths, a
// workflow, an executable script, an empty file and bytes that are not UTF-8.
func skeleton() map[string][]byte {
	return map[string][]byte{
		"README.md":                         []byte("# churn\n"),
		".github/workflows/ml-pipeline.yml": []byte("on:\n  push:\n    branches: [main]\n"),
		"scripts/train.sh":                  []byte("#!/bin/sh\npython src/train.py\n"),
		"src/train.py":                      []byte("print('train')\n"),
		"src/__init__.py":                   {},
		"data/sample.bin":                   {0xff, 0x00, 0xfe, 0x80},
		"src.txt":                           []byte("sorts before src/ in git's order\n"),
	}
}

func project() github.Repository {
	return github.Repository{
		Owner: org, Name: "churn", Description: "ML project churn of team ml-research",
		Files:      skeleton(),
		AuthorName: "Ada Lovelace", AuthorEmail: "ada@example.com", Message: "Create churn from the mlportal ML project skeleton",
		Environments: []string{"staging", "production"},
		Variables:    map[string]string{"MLPORTAL_URL": "https://mlportal.example.com"},
		Secrets:      map[string]string{"MLPORTAL_TOKEN": "mlp_s3cr3t-token"},
		Topics:       []string{"ml-project"},
	}
}

type fixture struct {
	t   testing.TB
	srv *githubtest.Server
	p   *github.Provider
	clk *clock.Fake
}

func newFixture(t testing.TB, opts ...githubtest.Option) *fixture {
	t.Helper()
	clk := clock.NewFake(epoch)
	srv := githubtest.New(t, append([]githubtest.Option{githubtest.WithOrg(org), githubtest.WithClock(clk)}, opts...)...)
	return &fixture{t: t, srv: srv, clk: clk, p: newProvider(t, srv, srv.URL(), clk)}
}

func newProvider(t testing.TB, srv *githubtest.Server, apiURL string, clk clock.Clock) *github.Provider {
	t.Helper()
	p, err := github.New(github.Config{APIURL: apiURL, Token: githubtest.Token, HTTPClient: srv.Client(), Clock: clk},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) ensure(r github.Repository) (github.Result, error) {
	f.t.Helper()
	return f.p.Ensure(context.Background(), r)
}

func (f *fixture) mustEnsure(r github.Repository) github.Result {
	f.t.Helper()
	res, err := f.ensure(r)
	if err != nil {
		f.t.Fatalf("Ensure: %v", err)
	}
	return res
}

// ops lists the requests since the last call as "STATUS operationId".
func (f *fixture) ops() []string {
	var out []string
	for _, r := range f.srv.Requests() {
		out = append(out, itoa(r.Status)+" "+r.Operation)
	}
	f.srv.ClearRequests()
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "dropped"
	}
	return strconv.Itoa(n)
}

// wantFault checks err's kind and that its caller-safe message says each of want.
func wantFault(t *testing.T, err error, kind error, want ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want kind %v", err, kind)
	}
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("err = %v is not a fault error", err)
	}
	for _, w := range want {
		if !strings.Contains(fe.Message, w) {
			t.Errorf("message %q lacks %q", fe.Message, w)
		}
	}
}
