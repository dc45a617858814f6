package github

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	gh "github.com/google/go-github/v62/github"
	"golang.org/x/crypto/nacl/box"

	"github.com/mlportal/mlportal/internal/fault"
)

// settings protects main and sets the environments, variables and secrets;
// every write is an idempotent put, so a rerun repeats them harmlessly.
func (e *ensure) settings(ctx context.Context) error {
	r := e.r
	g := e.p.gh
	if _, _, err := g.Repositories.UpdateBranchProtection(ctx, r.Owner, r.Name, Branch, &gh.ProtectionRequest{
		RequiredPullRequestReviews: &gh.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 1},
		AllowForcePushes:           gh.Bool(false),
		AllowDeletions:             gh.Bool(false),
	}); err != nil {
		return e.p.explain(err, r.Owner, opProtect)
	}
	e.did("branch protection")
	for _, env := range r.Environments {
		// Not Repositories.CreateUpdateEnvironment: go-github v62 sends
		// can_admins_bypass, which GitHub's description does not have.
		req, err := g.NewRequest(http.MethodPut, "repos/"+url.PathEscape(r.Owner)+"/"+url.PathEscape(r.Name)+"/environments/"+url.PathEscape(env), struct{}{})
		if err == nil {
			_, err = g.Do(ctx, req, nil)
		}
		if err != nil {
			return e.p.explain(err, r.Owner, opEnvironment)
		}
		e.did("environment " + env)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Variables)) {
		v := &gh.ActionsVariable{Name: name, Value: r.Variables[name]}
		_, err := g.Actions.CreateRepoVariable(ctx, r.Owner, r.Name, v)
		if status(err) == http.StatusConflict { // exists: set its value
			_, err = g.Actions.UpdateRepoVariable(ctx, r.Owner, r.Name, v)
		}
		if err != nil {
			return e.p.explain(err, r.Owner, opVariable)
		}
		e.did("variable " + name)
	}
	if len(r.Secrets) == 0 {
		return nil
	}
	key, _, err := g.Actions.GetRepoPublicKey(ctx, r.Owner, r.Name)
	if err != nil {
		return e.p.explain(err, r.Owner, opSecret)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Secrets)) {
		sealed, err := seal(key, r.Secrets[name])
		if err != nil {
			return err
		}
		if _, err := g.Actions.CreateOrUpdateRepoSecret(ctx, r.Owner, r.Name, &gh.EncryptedSecret{
			Name: name, KeyID: key.GetKeyID(), EncryptedValue: sealed,
		}); err != nil {
			return e.p.explain(err, r.Owner, opSecret)
		}
		e.did("secret " + name)
	}
	return nil
}

// seal encrypts value for the repository's public key as GitHub documents:
// a libsodium sealed box (an ephemeral X25519 key, XSalsa20-Poly1305), base64.
func seal(key *gh.PublicKey, value string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(key.GetKey())
	if err != nil || len(raw) != 32 {
		return "", wrap(fault.New(fault.ErrUnavailable,
			"GitHub returned a repository public key mlportal cannot use (%d bytes), so it cannot store Actions secrets; retry with `mlportal project retry`", len(raw)), err)
	}
	var pub [32]byte
	copy(pub[:], raw)
	out, err := box.SealAnonymous(nil, []byte(value), &pub, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}
