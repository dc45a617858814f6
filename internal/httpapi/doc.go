// Package httpapi is mlportal's HTTP transport: the echo server, its
// middleware (request ids, access logs, Prometheus metrics, body limits,
// authentication, OpenAPI request validation, idempotency keys, audit) and the
// handlers that implement the generated api.ServerInterface by calling the
// domain services.
//
// It owns the one function that maps errors to HTTP responses (errors.go).
// It holds no business rules: authorization and validation beyond the
// OpenAPI schema live in the domain packages.
package httpapi
