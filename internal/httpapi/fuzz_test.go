package httpapi_test

import (
	"testing"
)

// FuzzRequest sends arbitrary bodies, paths and headers through the whole
// stack: the answer is never a 5xx and always carries the error shape.
func FuzzRequest(f *testing.F) {
	e := newEnv(f)
	seeds := []struct{ method, path, body, ifMatch string }{
		{"POST", "/api/v1/teams", `{"name":"ok-team"}`, ""},
		{"POST", "/api/v1/teams", `{"name":"x","members":[{"subject":"user:default/a","role":"viewer"}]}`, ""},
		{"POST", "/api/v1/teams", `{"name":[],"gpuQuota":[{"gpuType":"a100","nominal":-1}]}`, ""},
		{"PUT", "/api/v1/teams/ok-team", `{"displayName":"\u0000"}`, `"1"`},
		{"POST", "/api/v1/tokens", `{"name":"t","verbs":["read"],"ttl":"99999999999h"}`, ""},
		{"GET", "/api/v1/audit?since=yesterday", ``, ""},
		{"DELETE", "/api/v1/teams/ok-team", ``, `W/"x"`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body, s.ifMatch)
	}
	f.Fuzz(func(t *testing.T, method, path, body, ifMatch string) {
		switch method {
		case "GET", "POST", "PUT", "DELETE", "PATCH":
		default:
			return
		}
		if len(path) == 0 || path[0] != '/' || !sendable(path+ifMatch) {
			return // not an HTTP request a client could send
		}
		var b any
		if body != "" {
			b = body
		}
		r := e.doT(t, method, path, adminToken, b, "If-Match", ifMatch)
		if r.status >= 500 {
			t.Fatalf("%s %s %q → %d: %s", method, path, body, r.status, r.raw)
		}
		if r.status >= 400 && r.errorCode() == "" {
			t.Fatalf("%s %s → %d without the error shape: %s", method, path, r.status, r.raw)
		}
	})
}

func sendable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}
