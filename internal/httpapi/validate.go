package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/fault"
)

var validationOptions = &openapi3filter.Options{
	MultiError:         true,
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// streamValidationOptions are for server-sent-event operations: parameters
// are checked; there is no request body, and the stream is never buffered.
var streamValidationOptions = &openapi3filter.Options{
	MultiError:         true,
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	ExcludeRequestBody: true,
}

// validate checks every request against the OpenAPI document before a
// handler runs: parameters, headers, content type and body schema (unknown
// fields included, as the schemas forbid additional properties).
func (s *Server) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rt := s.routeOf(c)
		if rt == nil || rt.kin == nil {
			return next(c)
		}
		params := make(map[string]string, len(c.ParamNames()))
		for i, n := range c.ParamNames() {
			params[n] = c.ParamValues()[i]
		}
		opts := validationOptions
		if rt.stream {
			opts = streamValidationOptions
		}
		in := &openapi3filter.RequestValidationInput{Request: c.Request(), PathParams: params, Route: rt.kin, Options: opts}
		if err := openapi3filter.ValidateRequest(c.Request().Context(), in); err != nil {
			return requestFault(err)
		}
		return next(c)
	}
}

// requestFault converts kin-openapi's errors into one fault listing every
// offending field: unreadable input is 400, a body of the wrong media type
// 415, and well-formed input that breaks the schema 422.
func requestFault(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	var fields []fault.FieldError
	kind := fault.ErrInvalid
	var walk func(err error, prefix string)
	walk = func(err error, prefix string) {
		var schemaErr *openapi3.SchemaError
		var parseErr *openapi3filter.ParseError
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(inner, prefix)
			}
		case *openapi3filter.RequestError:
			switch {
			case e.Parameter != nil && errors.As(e.Err, &parseErr):
				kind = errMalformed
				fields = append(fields, fault.Field(e.Parameter.Name, "%s", parseErr.Reason))
			case e.Parameter != nil && e.Err != nil:
				walk(e.Err, e.Parameter.Name)
			case e.Parameter != nil:
				fields = append(fields, fault.Field(e.Parameter.Name, "%s", e.Reason))
			case strings.Contains(e.Reason, "Content-Type"):
				kind = errUnsupportedMedia
				fields = append(fields, fault.Field("Content-Type", "send application/json"))
			case errors.As(e.Err, &parseErr):
				kind = errMalformed
				fields = append(fields, fault.Field("body", "%s", strings.TrimPrefix(parseErr.Error(), "body: ")))
			case e.Err != nil:
				walk(e.Err, "")
			default:
				fields = append(fields, fault.Field("body", "%s", e.Reason))
			}
		default:
			if !errors.As(err, &schemaErr) {
				fields = append(fields, fault.Field(orBody(prefix), "%s", err.Error()))
				return
			}
			field := jsonPath(schemaErr.JSONPointer())
			if prefix != "" {
				field = prefix
			}
			reason := schemaErr.Reason
			if m := unsupportedRE.FindStringSubmatch(reason); m != nil {
				// Name the unknown field itself, not its parent object.
				field, reason = joinField(field, m[1]), "unknown field; the schema does not allow it"
			}
			fields = append(fields, fault.Field(orBody(field), "%s", reason))
		}
	}
	walk(err, "")
	switch kind {
	case errMalformed:
		return &fault.Error{Kind: errMalformed, Message: "the request could not be parsed; send well-formed JSON and parameters of the documented types", Fields: fields}
	case errUnsupportedMedia:
		return &fault.Error{Kind: errUnsupportedMedia, Message: "the request body must be application/json", Fields: fields}
	}
	return fault.Invalid(fmt.Sprintf("the request does not match the API (%d problem%s); see details", len(fields), plural(len(fields))), fields...)
}

var unsupportedRE = regexp.MustCompile(`^property "([^"]*)" is unsupported$`)

func joinField(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

func orBody(s string) string {
	if s == "" {
		return "body"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// jsonPath turns ["members","0","role"] into members[0].role.
func jsonPath(ptr []string) string {
	var b strings.Builder
	for _, p := range ptr {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// decodeBody strictly decodes the (already schema-checked) JSON body.
func decodeBody(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return &fault.Error{Kind: errMalformed, Message: "the request body is not valid JSON for this operation: " + err.Error()}
	}
	return nil
}
