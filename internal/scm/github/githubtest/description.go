package githubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// EnvDescription names the environment variable holding the path of GitHub's
// REST API description (api.github.com.json from @octokit/openapi).
const EnvDescription = "MLPORTAL_GITHUB_OPENAPI"

const descriptionHint = "run `make github-openapi` and prefix go test with $(GITHUB_OPENAPI_ENV), " +
	"or export " + EnvDescription + "=$(bash internal/scm/github/githubtest/description.sh) " +
	"(it fetches the description once into the cache)"

// Description is GitHub's REST API description, indexed for matching requests
// to operations.
type Description struct {
	doc *openapi3.T
	ops map[string][]*operation // by HTTP method
}

type operation struct {
	method   string // upper case
	id       string // operationId, e.g. "repos/create-in-org"
	template string // e.g. "/repos/{owner}/{repo}"
	segs     []string
	literals int
	item     *openapi3.PathItem
	op       *openapi3.Operation
}

var loaded = struct {
	sync.Mutex
	byPath map[string]*Description
}{byPath: map[string]*Description{}}

// LoadDescription returns the description at the path in $MLPORTAL_GITHUB_OPENAPI,
// loaded once per test binary (GitHub's is 13 MB: a few seconds). Under -short
// it skips the test, as the other integration-tier dependencies do; without
// the variable it fails the test with the command that fetches the file.
func LoadDescription(t testing.TB) *Description {
	t.Helper()
	if testing.Short() {
		t.Skip("integration tier: checks requests against GitHub's REST description (" + EnvDescription + ")")
	}
	path := os.Getenv(EnvDescription)
	if path == "" {
		t.Fatalf("githubtest: %s is not set; %s", EnvDescription, descriptionHint)
	}
	d, err := ParseDescription(path)
	if err != nil {
		t.Fatalf("githubtest: %v; %s", err, descriptionHint)
	}
	return d
}

// ParseDescription loads and indexes the description at path, caching it by path.
func ParseDescription(path string) (*Description, error) {
	loaded.Lock()
	defer loaded.Unlock()
	if d, ok := loaded.byPath[path]; ok {
		return d, nil
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load GitHub's REST description %s: %w", path, err)
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("%s describes no operations: not GitHub's REST description", path)
	}
	d := &Description{doc: doc, ops: map[string][]*operation{}}
	for template, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := &operation{method: method, id: op.OperationID, template: template, segs: split(template), item: item, op: op}
			for _, s := range o.segs {
				if !isParam(s) {
					o.literals++
				}
			}
			d.ops[method] = append(d.ops[method], o)
		}
	}
	loaded.byPath[path] = d
	return d, nil
}

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// match finds the operation for method and an escaped path (without the base
// path). Literal segments win over parameters, as in GitHub's router; a final
// {ref} or {path} parameter may span several segments (heads/main, a/b.txt).
func (d *Description) match(method, escaped string) (*operation, map[string]string) {
	segs := split(escaped)
	var best *operation
	var bestParams map[string]string
	for _, o := range d.ops[method] {
		params, ok := o.bind(segs)
		if !ok {
			continue
		}
		if best == nil || o.literals > best.literals || (o.literals == best.literals && len(o.segs) > len(best.segs)) {
			best, bestParams = o, params
		}
	}
	return best, bestParams
}

// slashy are the parameters whose values contain slashes.
var slashy = map[string]bool{"{ref}": true, "{path}": true}

func (o *operation) bind(segs []string) (map[string]string, bool) {
	n := len(o.segs)
	if len(segs) < n || (len(segs) > n && !slashy[o.segs[n-1]]) {
		return nil, false
	}
	params := map[string]string{}
	for i, t := range o.segs {
		raw := segs[i]
		if i == n-1 {
			raw = strings.Join(segs[i:], "/")
		}
		v, err := url.PathUnescape(raw)
		if err != nil {
			return nil, false
		}
		if isParam(t) {
			if v == "" {
				return nil, false
			}
			params[t[1:len(t)-1]] = v
		} else if t != v {
			return nil, false
		}
	}
	return params, true
}

// checkRequest returns the request's operation, or an error saying why GitHub's
// description has no such request: an unknown method and path, or parameters
// or a body its schema refuses (missing required properties, wrong types).
func (d *Description) checkRequest(r *http.Request, escaped string, body []byte) (*operation, map[string]string, error) {
	o, params := d.match(r.Method, escaped)
	if o == nil {
		return nil, nil, fmt.Errorf("%s %s is not an operation in GitHub's REST API description", r.Method, escaped)
	}
	req := r.Clone(r.Context())
	req.Body = nopCloser(body)
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: d.route(o), Options: d.options(),
	})
	if err != nil {
		return o, params, fmt.Errorf("%s (%s %s) does not match GitHub's REST API description: %s", o.id, r.Method, o.template, brief(err))
	}
	return o, params, nil
}

// checkResponse reports a response of the stand-in's own that the description
// does not allow: the stand-in must answer in GitHub's shapes.
func (d *Description) checkResponse(r *http.Request, o *operation, params map[string]string, status int, header http.Header, body []byte) error {
	opts := d.options()
	opts.IncludeResponseStatus = true
	err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: d.route(o), Options: opts},
		Status:                 status, Header: header, Body: nopCloser(body), Options: opts,
	})
	if err != nil {
		return fmt.Errorf("stand-in response %d to %s does not match GitHub's REST API description: %s", status, o.id, brief(err))
	}
	return nil
}

func (d *Description) route(o *operation) *routers.Route {
	return &routers.Route{Spec: d.doc, Path: o.template, PathItem: o.item, Method: o.method, Operation: o.op}
}

func (d *Description) options() *openapi3filter.Options {
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true, MultiError: true}
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	return opts
}

// brief flattens kin-openapi's errors to one line without the schema dumps.
func brief(err error) string {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		parts := make([]string, 0, len(multi))
		for _, e := range multi {
			parts = append(parts, brief(e))
		}
		return strings.Join(parts, "; ")
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.Err != nil {
		where := "body"
		if re.Parameter != nil {
			where = re.Parameter.In + " parameter " + re.Parameter.Name
		}
		return where + ": " + brief(re.Err)
	}
	var rse *openapi3filter.ResponseError
	if errors.As(err, &rse) && rse.Err != nil {
		return rse.Reason + ": " + brief(rse.Err)
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nSchema:"); i >= 0 {
		msg = msg[:i]
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

// example returns a deep copy of the first JSON example of an operation's
// response, the base of the stand-in's answer in GitHub's own shape.
func (d *Description) example(o *operation, status int) map[string]any {
	ref := o.op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return map[string]any{}
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil {
		return map[string]any{}
	}
	var v any = mt.Example
	if v == nil {
		for _, name := range slices.Sorted(maps.Keys(mt.Examples)) {
			if ex := mt.Examples[name]; ex != nil && ex.Value != nil {
				v = ex.Value.Value
				break
			}
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		return map[string]any{}
	}
	return out
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func nopCloser(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }
