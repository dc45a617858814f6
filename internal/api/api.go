// Package api holds mlportal's HTTP contract: the OpenAPI document
// (openapi.yaml) and the Go types, echo server interface and client that
// oapi-codegen generates from it (`make generate`; never edit *.gen.go).
//
// These are transport types. Handlers in package httpapi translate them to and
// from the domain packages' own types; nothing else should import this package
// except the CLI's client.
package api

import _ "embed"

//go:generate go tool oapi-codegen -config server.cfg.yaml openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml openapi.yaml

// Spec is the OpenAPI document, served at GET /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var Spec []byte
