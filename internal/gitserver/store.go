package gitserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
)

// Store keeps bare repositories under a root directory.
type Store struct {
	root     string
	git      string
	log      *slog.Logger
	clock    clock.Clock
	maxBody  int64
	transfer time.Duration

	mu    sync.Mutex
	locks map[string]chan struct{} // "team/project" → a one-slot semaphore
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that dates first commits (default: the real one).
func WithClock(c clock.Clock) Option { return func(s *Store) { s.clock = c } }

// WithMaxRequestBytes bounds a chunked request body, which the handler must
// buffer because CGI needs a length (default 2 GiB).
func WithMaxRequestBytes(n int64) Option { return func(s *Store) { s.maxBody = n } }

// WithTransferTimeout bounds one clone, fetch or push request (default 1h).
func WithTransferTimeout(d time.Duration) Option { return func(s *Store) { s.transfer = d } }

// New returns a Store keeping repositories under root, which it creates. git
// is the path of the git binary; "" looks it up in PATH.
func New(root, git string, log *slog.Logger, opts ...Option) (*Store, error) {
	if root == "" {
		return nil, errors.New("gitserver: empty repository root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("gitserver: resolve root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("gitserver: create root: %w", err)
	}
	if git == "" {
		git = "git"
	}
	bin, err := exec.LookPath(git)
	if err != nil {
		return nil, fmt.Errorf("gitserver: find git binary: %w", err)
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return nil, fmt.Errorf("gitserver: resolve git binary: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{root: abs, git: bin, log: log, clock: clock.Real{}, maxBody: 2 << 30, transfer: time.Hour, locks: map[string]chan struct{}{}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Root returns the directory holding the repositories.
func (s *Store) Root() string { return s.root }

// CloneURL returns the address at which Handler serves the repository, given
// the server's external base URL (e.g. "http://localhost:8080").
func (s *Store) CloneURL(baseURL, team, project string) string {
	return strings.TrimRight(baseURL, "/") + "/git/" + team + "/" + project + ".git"
}

// Exists reports whether the repository has been created.
func (s *Store) Exists(ctx context.Context, team, project string) (bool, error) {
	dir, err := s.repoDir(team, project)
	if err != nil {
		return false, err
	}
	return isRepo(dir)
}

// Delete removes the repository and everything in it; deleting a missing
// repository succeeds, so a saga may retry its rollback.
func (s *Store) Delete(ctx context.Context, team, project string) error {
	dir, err := s.repoDir(team, project)
	if err != nil {
		return err
	}
	unlock, err := s.lock(ctx, team+"/"+project)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete repository %s/%s: %w", team, project, err)
	}
	_ = os.Remove(filepath.Dir(dir)) // the team's directory, if now empty
	return nil
}

func isRepo(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, "HEAD"))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("stat repository: %w", err)
	}
}

// nameRE is an RFC 1123 DNS label, as team and project names are.
var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

func validName(n string) bool { return len(n) >= 2 && len(n) <= 63 && nameRE.MatchString(n) }

// repoDir validates the names — the only guard between a request path and
// the filesystem — and returns the repository's directory.
func (s *Store) repoDir(team, project string) (string, error) {
	var fields []fault.FieldError
	if !validName(team) {
		fields = append(fields, fault.Field("team", "must be a DNS label: 2–63 lowercase letters, digits and '-', starting with a letter"))
	}
	if !validName(project) {
		fields = append(fields, fault.Field("project", "must be a DNS label: 2–63 lowercase letters, digits and '-', starting with a letter"))
	}
	if len(fields) > 0 {
		return "", fault.Invalid("invalid repository name", fields...)
	}
	return filepath.Join(s.root, team, project+".git"), nil
}

// lock takes the repository's in-process lock, giving up when ctx ends.
func (s *Store) lock(ctx context.Context, key string) (func(), error) {
	s.mu.Lock()
	ch, ok := s.locks[key]
	if !ok {
		ch = make(chan struct{}, 1)
		s.locks[key] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for repository %s: %w", key, ctx.Err())
	}
}

// env is the whole environment of every git process: no host or user config,
// no prompts, stable messages.
func (s *Store) env(extra ...string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return append([]string{
		"PATH=" + path,
		"HOME=" + s.root, // holds no dotfiles: names cannot start with '.'
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_ATTR_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}, extra...)
}

// run runs git with args, feeding stdin, and returns its trimmed stdout.
func (s *Store) run(ctx context.Context, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.git, args...)
	cmd.Env = s.env(env...)
	cmd.Dir = s.root
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &gitError{args: args, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return strings.TrimSpace(stdout.String()), nil
}

type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	verb := ""
	for _, a := range e.args {
		if !strings.HasPrefix(a, "-") {
			verb = a
			break
		}
	}
	if e.stderr == "" {
		return fmt.Sprintf("git %s: %v", verb, e.err)
	}
	return fmt.Sprintf("git %s: %v: %s", verb, e.err, e.stderr)
}

func (e *gitError) Unwrap() error { return e.err }
