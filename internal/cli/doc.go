// Package cli is the `mlportal` command: the server (`serve`) and the client
// verbs data scientists and CI use (`login`, `whoami`, `token`, `teams`,
// `audit`, ...), each a cobra command over the generated API client.
//
// It is the frame later verbs plug into: a client config file in the user's
// config dir, `--output table|json|yaml`, errors that say how to fix them and
// exit codes scripts can rely on (exitcodes.go). It holds no business rules.
package cli
