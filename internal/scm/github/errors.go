package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/mlportal/mlportal/internal/fault"
)

// op is what the provider was doing when GitHub refused, for messages.
type op struct {
	doing string // after "tried to": "create the repository"
	may   string // after "may not": "create private repositories"
	perm  string // what the token needs for it
}

const (
	permAdmin    = `the repository permission "Administration: read and write" (fine-grained token or GitHub App) or the "repo" scope (classic token)`
	permContents = `the repository permission "Contents: read and write" (fine-grained token or GitHub App) or the "repo" scope (classic token)`
)

var (
	opGetRepo       = op{"read the repository", "read its repositories", `the repository permission "Metadata: read" or the "repo" scope (classic token)`}
	opCreateRepo    = op{"create the repository", "create private repositories", permAdmin + `, and the organisation must let it create private repositories`}
	opTopics        = op{"set the repository's topics", "set repository topics", permAdmin}
	opCommit        = op{"write the first commit", "write commits and branches", permContents}
	opDefaultBranch = op{"set the default branch", "change a repository's default branch", permAdmin}
	opProtect       = op{"protect the branch " + Branch, "protect branches", permAdmin + ` (on private repositories branch protection also needs a GitHub Team or Enterprise plan)`}
	opEnvironment   = op{"create the deployment environments", "create deployment environments", permAdmin + ` (environments in private repositories also need a GitHub Team or Enterprise plan)`}
	opVariable      = op{"set the Actions variables", "set Actions variables", `the repository permission "Variables: read and write" or the "repo" scope (classic token)`}
	opSecret        = op{"set the Actions secrets", "set Actions secrets", `the repository permission "Secrets: read and write" or the "repo" scope (classic token)`}
	opDelete        = op{"delete the repository", "delete repositories", permAdmin + ` with the "delete_repo" scope for a classic token, and the organisation must let members delete repositories`}
)

const retry = "retry with `mlportal project retry`"

// explain maps a go-github error to a fault error whose message says what to
// do; the cause, with GitHub's status, message and request id, stays wrapped.
func (p *Provider) explain(err error, org string, o op) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller stopped; the saga redoes the step
	}
	var rle *gh.RateLimitError
	var sec *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rle):
		return wrap(p.rateLimited(rle.Rate.Reset.Time), err)
	case errors.As(err, &sec):
		until := p.clock.Now().Add(time.Minute)
		if sec.RetryAfter != nil {
			until = p.clock.Now().Add(*sec.RetryAfter)
		}
		return wrap(p.rateLimited(until), err)
	case errors.As(err, &er) && er.Response != nil:
		return wrap(p.refused(er, org, o), withRequestID(err, er.Response))
	}
	return wrap(fault.New(fault.ErrUnavailable,
		"%s is unreachable (mlportal tried to %s in the organisation %q): %s", p.host, o.doing, org, retry), err)
}

func (p *Provider) refused(er *gh.ErrorResponse, org string, o op) *fault.Error {
	code, said := er.Response.StatusCode, githubSaid(er)
	switch {
	case code == http.StatusUnauthorized:
		return fault.New(fault.ErrUnavailable,
			"%s refused mlportal's token as invalid or expired (401%s): ask your platform team to set a valid token in %s, then %s",
			p.host, said, keyToken, retry)
	case code == http.StatusTooManyRequests || (code == http.StatusForbidden && strings.Contains(strings.ToLower(er.Message), "rate limit")):
		return p.rateLimited(p.resetOf(er.Response))
	case code == http.StatusForbidden:
		return fault.Denied("mlportal's GitHub token may not %s in the organisation %q on %s (403%s): "+
			"ask your platform team to give the token in %s %s, then %s", o.may, org, p.host, said, keyToken, o.perm, retry)
	case code == http.StatusNotFound:
		return fault.New(fault.ErrNotFound, "%s answered 404 Not Found when mlportal tried to %s in the organisation %q: "+
			"the repository was deleted meanwhile, or the token in %s lacks %s (GitHub hides what a token may not see); %s",
			p.host, o.doing, org, keyToken, o.perm, retry)
	case code == http.StatusUnprocessableEntity && nameTaken(er):
		return fault.New(fault.ErrAlreadyExists, "%s says the name is taken in the organisation %q%s: pick another project name", p.host, org, said)
	case code == http.StatusConflict:
		return fault.New(fault.ErrConflict, "%s refused to %s in the organisation %q because of a conflicting change (409%s); %s",
			p.host, o.doing, org, said, retry)
	case code >= 400 && code < 500:
		return fault.New(fault.ErrInvalid, "%s refused to %s in the organisation %q (%d%s); if the project's values look right, "+
			"give your platform team the project id", p.host, o.doing, org, code, said)
	}
	return fault.New(fault.ErrUnavailable, "%s is failing (HTTP %d) while mlportal tried to %s in the organisation %q: %s",
		p.host, code, o.doing, org, retry)
}

func (p *Provider) rateLimited(until time.Time) *fault.Error {
	return fault.New(fault.ErrUnavailable, "mlportal's token is rate limited by %s until %s: %s after that time",
		p.host, until.UTC().Format(time.RFC3339), retry)
}

// resetOf reads when a 429 or secondary limit ends: Retry-After, else X-RateLimit-Reset.
func (p *Provider) resetOf(r *http.Response) time.Time {
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil {
		return p.clock.Now().Add(time.Duration(s) * time.Second)
	}
	if s, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		return time.Unix(s, 0)
	}
	return p.clock.Now().Add(time.Minute)
}

func githubSaid(er *gh.ErrorResponse) string {
	msg := strings.TrimSpace(er.Message)
	for _, fe := range er.Errors {
		if fe.Message != "" {
			msg += " " + strings.TrimSpace(fe.Message)
		}
	}
	if msg == "" {
		return ""
	}
	return fmt.Sprintf(", GitHub said %q", msg)
}

func withRequestID(err error, r *http.Response) error {
	if id := r.Header.Get("X-GitHub-Request-Id"); id != "" {
		return fmt.Errorf("%w (X-GitHub-Request-Id %s)", err, id)
	}
	return err
}

func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	if err != nil {
		return -1
	}
	return 0
}

func errMismatch(kind, want, got string) error {
	return fault.New(fault.ErrUnavailable, "GitHub named the skeleton's %s %s where mlportal computed %s, so mlportal stopped before "+
		"moving the branch; this is a bug in mlportal: give your platform team the project id", kind, got, want)
}

// Error is a fault error with its cause: fault.As finds the caller-safe
// part, Error() carries both for the log.
type Error struct {
	Safe  *fault.Error
	Cause error
}

func wrap(safe *fault.Error, cause error) error { return &Error{Safe: safe, Cause: cause} }

func (e *Error) Error() string {
	if e.Cause == nil {
		return e.Safe.Error()
	}
	return e.Safe.Error() + ": " + e.Cause.Error()
}

// Unwrap exposes both, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Safe}
	}
	return []error{e.Safe, e.Cause}
}

// failed adds to err's caller-safe message what this run already made, so a
// half-made repository is never left unreported.
func (e *ensure) failed(err error) error {
	if len(e.made) == 0 {
		return err
	}
	note := fmt.Sprintf("already made on GitHub: %s; retrying finishes the rest", strings.Join(e.made, ", "))
	safe, ok := fault.As(err)
	if !ok {
		return fmt.Errorf("%w (%s)", err, note)
	}
	amended := *safe
	amended.Message = strings.TrimSuffix(safe.Message, ".") + " (" + note + ")"
	var ge *Error
	if errors.As(err, &ge) {
		return &Error{Safe: &amended, Cause: ge.Cause}
	}
	return &amended
}
