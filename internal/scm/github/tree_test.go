package github

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
)

// TestTreeSHAIsGits: the first commit's tree SHA the provider predicts is the
// one `git add -A && git write-tree` gives for the same files (golden value
// from git 2.x; *.sh executable, a directory sorting after "src.txt").
func TestTreeSHAIsGits(t *testing.T) {
	files := map[string][]byte{
		"README.md":                         []byte("# churn\n"),
		".github/workflows/ml-pipeline.yml": []byte("on:\n  push:\n    branches: [main]\n"),
		"scripts/train.sh":                  []byte("#!/bin/sh\npython src/train.py\n"),
		"src/train.py":                      []byte("print('train')\n"),
		"src/__init__.py":                   {},
		"data/sample.bin":                   {0xff, 0x00, 0xfe, 0x80},
		"src.txt":                           []byte("sorts before src/ in git's order\n"),
	}
	tr := buildTree(files)
	if tr.sha != "6babe9943d9ea4156dfa3f587dfa68d46dcb5ed8" {
		t.Errorf("tree = %s, git write-tree says 6babe9943d9ea4156dfa3f587dfa68d46dcb5ed8", tr.sha)
	}
	if len(tr.blobs) != 7 || len(tr.files) != 7 {
		t.Errorf("%d blobs, %d files, want 7 and 7", len(tr.blobs), len(tr.files))
	}
	if got := gitHash("blob", []byte("hello\n")); got != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Errorf("blob of hello = %s", got)
	}
}

func TestNew(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // "" = valid
		base  string
	}{
		{"github.com by default", Config{Token: "t"}, "", "https://api.github.com/"},
		{"enterprise root used as given", Config{Token: "t", APIURL: "https://ghe.example.com/api/v3"}, "", "https://ghe.example.com/api/v3/"},
		{"no token", Config{}, keyToken, ""},
		{"blank token", Config{Token: "  "}, keyToken, ""},
		{"relative API URL", Config{Token: "t", APIURL: "ghe.example.com/api/v3"}, keyAPIURL, ""},
		{"not http", Config{Token: "t", APIURL: "ftp://ghe.example.com/"}, keyAPIURL, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg, log)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := p.gh.BaseURL.String(); got != tc.base {
					t.Errorf("base URL = %s, want %s", got, tc.base)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || !errors.Is(err, fault.ErrInvalid) || len(fe.Fields) != 1 || fe.Fields[0].Field != tc.field {
				t.Errorf("New = %v, want invalid %s", err, tc.field)
			}
		})
	}
}
