package github

import (
	"io/fs"
	"regexp"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// GitHub's rules, checked before any request so a bad value costs nothing.
var (
	ownerRE   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$`)
	repoRE    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	topicRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,49}$`)
	actionsRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) // variable and secret names
	environRE = regexp.MustCompile(`^[^/'"\\<>:;,]{1,255}$`)
	noReply   = committerEmail
)

func (r Repository) validate() error {
	var errs []fault.FieldError
	bad := func(field, format string, args ...any) { errs = append(errs, fault.Field(field, format, args...)) }
	if !ownerRE.MatchString(r.Owner) {
		bad("owner", "%q is not a GitHub organisation name (letters, digits and single hyphens, at most 39)", r.Owner)
	}
	if !repoRE.MatchString(r.Name) || r.Name == "." || r.Name == ".." || strings.HasSuffix(strings.ToLower(r.Name), ".git") {
		bad("name", "%q is not a GitHub repository name (letters, digits, '.', '-', '_', at most 100)", r.Name)
	}
	if len(r.Files) == 0 {
		bad("files", "the first commit needs at least one file")
	}
	for p := range r.Files {
		ok := fs.ValidPath(p) && p != "." && !strings.ContainsAny(p, "\\\x00")
		for part := range strings.SplitSeq(p, "/") {
			ok = ok && !strings.EqualFold(part, ".git")
		}
		if !ok {
			bad("files", "%q must be a relative slash-separated path without '..' or .git", p)
		}
	}
	if strings.TrimSpace(r.AuthorName) == "" || strings.ContainsAny(r.AuthorName+r.AuthorEmail, "<>\n\x00") {
		bad("author", "the commit author needs a name, without '<', '>' or line breaks")
	}
	if strings.TrimSpace(r.Message) == "" {
		bad("message", "must not be empty")
	}
	for _, e := range r.Environments {
		if !environRE.MatchString(e) {
			bad("environments", "%q is not a GitHub environment name", e)
		}
	}
	for n := range r.Variables {
		if !actionsRE.MatchString(n) || strings.HasPrefix(strings.ToUpper(n), "GITHUB_") {
			bad("variables", "%q must be letters, digits and '_', not start with a digit or GITHUB_", n)
		}
	}
	for n := range r.Secrets {
		if !actionsRE.MatchString(n) || strings.HasPrefix(strings.ToUpper(n), "GITHUB_") {
			bad("secrets", "%q must be letters, digits and '_', not start with a digit or GITHUB_", n)
		}
	}
	for _, t := range r.Topics {
		if !topicRE.MatchString(t) {
			bad("topics", "%q must be lower-case letters, digits and hyphens, at most 50", t)
		}
	}
	if len(errs) > 0 {
		return fault.Invalid("invalid GitHub repository", errs...)
	}
	return nil
}

// authorEmail is the author's email; GitHub requires one, so a bare name
// gets the same no-reply address as the committer.
func (r Repository) authorEmail() string {
	if strings.TrimSpace(r.AuthorEmail) == "" {
		return noReply
	}
	return r.AuthorEmail
}
