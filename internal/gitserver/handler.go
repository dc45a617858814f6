package gitserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
)

// Authenticator turns a credential into a principal (token.Service is one).
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (identity.Principal, error)
}

// Authorizer loads a team's membership (team.Service is one).
type Authorizer interface {
	Membership(ctx context.Context, team string) (identity.Membership, error)
}

// challenge makes git ask its credential helper, or the user, for a password.
const challenge = `Basic realm="mlportal"`

// Handler serves the repositories over git's smart HTTP protocol at
// `/git/{team}/{project}.git/...`, and single files at
// `/git/{team}/{project}.git/raw/{ref}/{path}` (see serveRaw). Mount it on
// the full path (do not strip `/git`). Cloning, fetching and reading files
// need the read verb on the team, pushing needs write; Backstage services
// may read every team's repositories (allowed). Authorized requests get
// the Store's transfer timeout (WithTransferTimeout) in place of the
// server's read and write timeouts.
func (s *Store) Handler(auth Authenticator, authz Authorizer) http.Handler {
	return &handler{s: s, auth: auth, authz: authz}
}

type handler struct {
	s     *Store
	auth  Authenticator
	authz Authorizer
}

// route is one smart-HTTP or raw-file request, its names already validated.
type route struct {
	team, project, tail string
	verb                identity.Verb
	raw                 bool // tail is "raw/<ref>/<path>"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// 1. Names and endpoint, before anything touches the filesystem.
	rt, status, msg := parseRoute(r)
	if status != 0 {
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", msg)
			msg = "method not allowed"
		}
		reply(w, status, msg)
		return
	}
	// 2. Who is calling.
	p, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	// 3. What they may do, then whether the repository is there.
	ctx := r.Context()
	m, err := h.authz.Membership(ctx, rt.team)
	if errors.Is(err, fault.ErrNotFound) {
		reply(w, http.StatusNotFound, "repository not found")
		return
	}
	if err != nil {
		h.internal(ctx, w, "load team membership", err, "team", rt.team)
		return
	}
	if !allowed(p, rt.verb, m) {
		reply(w, http.StatusForbidden, denial(rt, allowed(p, identity.VerbRead, m)))
		return
	}
	dir, _ := h.s.repoDir(rt.team, rt.project) // names validated by parseRoute
	if ok, err := isRepo(dir); err != nil {
		h.internal(ctx, w, "find repository", err, "team", rt.team, "project", rt.project)
		return
	} else if !ok {
		reply(w, http.StatusNotFound, "repository not found")
		return
	}
	// 4. git http-backend, or a single file, does the rest.
	if rt.raw {
		h.serveRaw(w, r, rt)
		return
	}
	h.serveGit(w, r, rt, p)
}

// allowed reports whether p may perform verb on the team's repositories:
// its role in the team allows it, or p is a Backstage service reading.
// Backstage's backend holds the key that signs any user's token, so letting
// its services read adds nothing it could not already do; it is what lets
// the catalog read a project's catalog-info.yaml without a user behind it.
func allowed(p identity.Principal, verb identity.Verb, m identity.Membership) bool {
	if verb == identity.VerbRead && p.Kind == identity.KindBackstageService {
		return true
	}
	return p.Can(verb, m)
}

// parseRoute accepts only the four smart-HTTP endpoints and raw files. On
// refusal it returns a status and a message (for 405, the allowed methods).
func parseRoute(r *http.Request) (route, int, string) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/git/")
	parts := strings.SplitN(rest, "/", 3)
	if !ok || len(parts) != 3 || !strings.HasSuffix(parts[1], ".git") {
		return route{}, http.StatusNotFound, "not found: repositories are served at /git/<team>/<project>.git"
	}
	rt := route{team: parts[0], project: strings.TrimSuffix(parts[1], ".git"), tail: parts[2]}
	if !validName(rt.team) || !validName(rt.project) {
		return route{}, http.StatusBadRequest, "team and project must be DNS labels: 2–63 lowercase letters, digits and '-', starting with a letter"
	}
	if raw, ok := strings.CutPrefix(rt.tail, "raw/"); ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return route{}, http.StatusMethodNotAllowed, "GET, HEAD"
		}
		rt.tail, rt.verb, rt.raw = raw, identity.VerbRead, true
		return rt, 0, ""
	}
	method := http.MethodPost
	switch rt.tail {
	case "info/refs":
		method = http.MethodGet
		switch r.URL.Query().Get("service") {
		case "git-upload-pack":
			rt.verb = identity.VerbRead
		case "git-receive-pack":
			rt.verb = identity.VerbWrite
		default:
			return route{}, http.StatusNotFound, "not found: only git's smart HTTP protocol and raw/<ref>/<path> are served"
		}
	case "git-upload-pack":
		rt.verb = identity.VerbRead
	case "git-receive-pack":
		rt.verb = identity.VerbWrite
	default:
		return route{}, http.StatusNotFound, "not found: only git's smart HTTP protocol and raw/<ref>/<path> are served"
	}
	if r.Method != method {
		return route{}, http.StatusMethodNotAllowed, method
	}
	return rt, 0, ""
}

// authenticate reads the token from Basic auth's password or a Bearer
// header; on failure it has answered 401 with the Basic challenge.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) (identity.Principal, bool) {
	unauthorized := func(msg string) {
		w.Header().Set("WWW-Authenticate", challenge)
		reply(w, http.StatusUnauthorized, msg)
	}
	var tok string
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		tok = strings.TrimSpace(b)
	} else if _, pass, ok := r.BasicAuth(); ok {
		tok = pass
	}
	if tok == "" {
		unauthorized("authentication required: use an mlportal token as the password (any username), or send Authorization: Bearer <token>")
		return identity.Principal{}, false
	}
	p, err := h.auth.Authenticate(r.Context(), tok)
	if errors.Is(err, fault.ErrUnauthenticated) {
		msg := "invalid credentials"
		if fe, ok := fault.As(err); ok {
			msg = fe.Message
		}
		unauthorized(msg)
		return identity.Principal{}, false
	}
	if err != nil {
		h.internal(r.Context(), w, "authenticate", err)
		return identity.Principal{}, false
	}
	return p, true
}

func denial(rt route, canRead bool) string {
	if rt.verb == identity.VerbWrite && canRead {
		return fmt.Sprintf("pushing to team %q's repositories needs the write verb: the developer role, or a token with write", rt.team)
	}
	return fmt.Sprintf("team %q's repositories need the read verb: ask a maintainer of the team to add you", rt.team)
}

// serveGit runs `git http-backend` as CGI for one request.
func (h *handler) serveGit(w http.ResponseWriter, r *http.Request, rt route, p identity.Principal) {
	ctx := r.Context()
	// Packs stream for longer than an API call: widen the server's
	// timeouts for this request only (network deadlines, hence wall time).
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(h.s.transfer)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	req := r.Clone(ctx)
	req.Header.Del("Authorization") // CGI would hand it to git as HTTP_AUTHORIZATION
	req.Header.Del("Cookie")
	if r.ContentLength > h.s.maxBody {
		reply(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	if len(r.TransferEncoding) > 0 {
		// net/http/cgi refuses chunked bodies, which git sends for large
		// pushes and fetches; spool them so they have a length.
		body, n, err := spool(r.Body, h.s.maxBody)
		if errors.Is(err, errTooLarge) {
			reply(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		if err != nil {
			h.internal(ctx, w, "buffer request body", err)
			return
		}
		defer body.Close()
		req.Body, req.ContentLength, req.TransferEncoding = body, n, nil
	}
	log := h.s.log.With("team", rt.team, "project", rt.project, "subject", p.Subject)
	receive := "false"
	if rt.verb == identity.VerbWrite {
		receive = "true"
	}
	backend := &cgi.Handler{
		Path: h.s.git,
		Args: []string{"http-backend"},
		Dir:  h.s.root,
		Root: "/git",
		Env: h.s.env(
			"GIT_PROJECT_ROOT="+h.s.root,
			"PATH_INFO=/"+rt.team+"/"+rt.project+".git/"+rt.tail,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+p.Subject,
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0="+receive,
			"GIT_CONFIG_KEY_1=http.uploadpack", "GIT_CONFIG_VALUE_1=true",
		),
		Logger: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Stderr: slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer(),
	}
	backend.ServeHTTP(w, req)
	if rt.tail == "git-receive-pack" {
		log.InfoContext(ctx, "git push served")
	}
}

var errTooLarge = errors.New("request body too large")

// spool copies at most limit bytes of body to a temporary file, which is
// removed when closed.
func spool(body io.Reader, limit int64) (io.ReadCloser, int64, error) {
	f, err := os.CreateTemp("", "mlportal-git-body-")
	if err != nil {
		return nil, 0, err
	}
	tf := tempFile{f}
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	if err == nil && n > limit {
		err = errTooLarge
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		tf.Close()
		return nil, 0, err
	}
	return tf, n, nil
}

// tempFile is removed when closed.
type tempFile struct{ *os.File }

func (f tempFile) Close() error {
	err := f.File.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	return err
}

func (h *handler) internal(ctx context.Context, w http.ResponseWriter, what string, err error, attrs ...any) {
	h.s.log.ErrorContext(ctx, "git http: "+what, append(attrs, "err", err)...)
	reply(w, http.StatusInternalServerError, "internal error")
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
