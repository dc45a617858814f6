// Package config loads mlportal's configuration from the same app-config.yaml
// files that configure Backstage.
//
// Backstage owns the file: its sections (app, backend, catalog, ...) are
// parsed only as YAML and otherwise ignored. mlportal reads its own top-level
// "mlportal:" section into [Config]. Files are layered in order, later files
// winning (maps merge deeply, sequences are replaced), and values are
// substituted the way Backstage's config loader does it: "${VAR}" inside
// strings ("$${VAR}" for a literal), and the "$env: VAR" and "$file: path"
// value forms. A value whose variable is not set is undefined: its key, or
// its sequence element, is dropped and the default applies.
//
// Decoding is strict. An unknown key or a value of the wrong type under
// "mlportal:" is an error naming the file and the full key path, so a typo
// stops start-up instead of silently falling back to a default.
//
// The package is used in three steps, with flag overrides applied by the
// caller in between: [Load] (defaults, files, substitution, strict decoding),
// [Config.Complete] (derived values such as the SQLite DSN and base URLs) and
// [Config.Validate] (every semantic problem at once, as a [*ValidationError]).
//
// It deliberately does not: read flags or the process environment by itself
// (the caller passes lookupEnv), watch files or reload, support Backstage's
// $include form or APP_CONFIG_* overrides, interpret the Backstage sections,
// or use the keys it validates (the Backstage plugin signs user tokens with
// mlportal.backstage.privateKey; the server's auth code verifies them).
package config
