// Package token authenticates callers and issues mlportal's own tokens.
//
// Three credentials are accepted as `Authorization: Bearer`:
//   - tokens the mlportal Backstage backend plugin mints per request for the
//     calling Backstage user or service: EdDSA JWTs verified with the public
//     keys in `mlportal.auth.backstage.publicKeys` (docs/adr/0002-identity.md);
//   - tokens mlportal issues for the CLI and CI: EdDSA JWTs signed with a key
//     mlportal generates once and persists in its store, scoped to a team and
//     verbs, expiring, and checked against the store on every use so that a
//     revocation takes effect at once;
//   - the local-mode admin token, an opaque secret compared in constant time.
//
// It turns a credential into an identity.Principal; deciding what that
// principal may do is package identity's job.
package token
