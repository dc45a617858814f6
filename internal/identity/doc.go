// Package identity models who is calling mlportal and what they may do.
//
// A Principal is established by authentication (package token) from a
// Backstage-minted token, an mlportal-issued token or the admin token. This
// package then decides authorization: team roles (viewer, developer,
// maintainer) map to verbs (read, write, manage), platform admins may do
// everything, and tokens are further narrowed to one team and a set of verbs.
//
// It is pure decision code: it verifies no signatures and reads no store; the
// caller passes the team's membership it already loaded.
package identity
