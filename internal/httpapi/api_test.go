package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/api"
)

func teamReq(name string, extra ...string) map[string]any {
	b := map[string]any{"name": name, "displayName": "Team " + name}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i]] = extra[i+1]
	}
	return b
}

func TestBadInputIsA4xxNamingTheField(t *testing.T) {
	e := newEnv(t)
	big := `{"name":"big","description":"` + strings.Repeat("x", 70*1024) + `"}`
	cases := []struct {
		name, method, path, body, contentType string
		status                                int
		code, field                           string
	}{
		{"bad JSON", "POST", "/api/v1/teams", `{"name":`, "", 400, "invalid_request", "body"},
		{"wrong type", "POST", "/api/v1/teams", `{"name":42}`, "", 422, "invalid_argument", "name"},
		{"unknown field", "POST", "/api/v1/teams", `{"name":"ok-name","colour":"red"}`, "", 422, "invalid_argument", "colour"},
		{"invalid name", "POST", "/api/v1/teams", `{"name":"Bad_Name"}`, "", 422, "invalid_argument", "name"},
		{"nested field", "POST", "/api/v1/teams", `{"name":"ok-name","members":[{"subject":"user:default/a","role":"king"}]}`, "", 422, "invalid_argument", "members[0].role"},
		{"zero weight", "POST", "/api/v1/teams", `{"name":"ok-name","fairShareWeight":0}`, "", 422, "invalid_argument", "fairShareWeight"},
		{"weight above the bound", "POST", "/api/v1/teams", `{"name":"ok-name","fairShareWeight":101}`, "", 422, "invalid_argument", "fairShareWeight"},
		{"weight not a number", "POST", "/api/v1/teams", `{"name":"ok-name","fairShareWeight":"3"}`, "", 422, "invalid_argument", "fairShareWeight"},
		{"weight on update", "PUT", "/api/v1/teams/ok-name", `{"fairShareWeight":-2}`, "", 422, "invalid_argument", "fairShareWeight"},
		{"missing body", "POST", "/api/v1/teams", ``, "", 422, "invalid_argument", "body"},
		{"oversized body", "POST", "/api/v1/teams", big, "", 413, "payload_too_large", ""},
		{"wrong content type", "POST", "/api/v1/teams", `name=x`, "text/plain", 415, "unsupported_media_type", "Content-Type"},
		{"bad query type", "GET", "/api/v1/teams?limit=many", ``, "", 400, "invalid_request", "limit"},
		{"query out of range", "GET", "/api/v1/teams?limit=100000", ``, "", 422, "invalid_argument", "limit"},
		{"bad page token", "GET", "/api/v1/teams?pageToken=zzz", ``, "", 422, "invalid_argument", "pageToken"},
		{"invalid path name", "GET", "/api/v1/teams/NOT_A_NAME", ``, "", 422, "invalid_argument", "team"},
		{"unknown route", "GET", "/api/v1/nope", ``, "", 404, "not_found", ""},
		{"wrong method", "PATCH", "/api/v1/teams", `{}`, "", 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			hdr := []string{}
			if c.contentType != "" {
				hdr = append(hdr, "Content-Type", c.contentType)
			}
			r := e.do(c.method, c.path, adminToken, body, hdr...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			if r.body["requestId"] == "" || r.body["requestId"] == nil {
				t.Errorf("no requestId in %s", r.raw)
			}
			if c.code != "" && r.errorCode() != c.code {
				t.Errorf("code %q, want %q: %s", r.errorCode(), c.code, r.raw)
			}
			if c.field != "" && !contains(r.fields(), c.field) {
				t.Errorf("details %v do not name %q: %s", r.fields(), c.field, r.raw)
			}
		})
	}
	// Nothing half-written: none of those created a team.
	r := e.do("GET", "/api/v1/teams", adminToken, nil).must(t, 200)
	if n := len(r.body["items"].([]any)); n != 0 {
		t.Fatalf("%d teams exist after only bad requests", n)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/teams", "", nil).must(t, 401)
	if r.errorCode() != "unauthenticated" || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no-token answer: %s %v", r.raw, r.header)
	}
	e.do("GET", "/api/v1/teams", "garbage", nil).must(t, 401)
	e.do("GET", "/api/v1/teams", "mlp_admin_wrong", nil).must(t, 401)
	// A Backstage token signed with another key.
	other := newEnv(t)
	e.do("GET", "/api/v1/whoami", other.backstage("user:default/alice"), nil).must(t, 401)
	// Public endpoints need nothing.
	e.do("GET", "/healthz", "", nil).must(t, 200)
	e.do("GET", "/readyz", "", nil).must(t, 200)
	e.do("GET", "/api/v1/openapi.yaml", "", nil).must(t, 200)

	// The real Backstage user arrives with their groups.
	r = e.do("GET", "/api/v1/whoami", e.backstage("user:default/alice", "group:default/ml-research"), nil).must(t, 200)
	if r.body["subject"] != "user:default/alice" || r.body["kind"] != "backstage-user" || r.body["admin"] != false {
		t.Fatalf("whoami: %s", r.raw)
	}
	if !contains(toStrings(r.body["groups"]), "group:default/ml-research") {
		t.Fatalf("groups missing: %s", r.raw)
	}
	// Expired Backstage token.
	tok := e.backstage("user:default/alice")
	e.clock.Advance(5 * time.Minute)
	e.do("GET", "/api/v1/whoami", tok, nil).must(t, 401)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAuthorizationByRole(t *testing.T) {
	e := newEnv(t)
	platform := e.backstage("user:default/pat", "group:default/platform-admins")
	alice := e.backstage("user:default/alice", "group:default/ml-research")
	bob := e.backstage("user:default/bob", "group:default/ml-research")
	carol := e.backstage("user:default/carol")

	e.do("POST", "/api/v1/teams", alice, teamReq("ml-research")).must(t, 403)
	r := e.do("POST", "/api/v1/teams", platform, map[string]any{"name": "ml-research", "backstageGroup": "group:default/ml-research",
		"members": []map[string]string{{"subject": "user:default/alice", "role": "maintainer"}}}).must(t, 201)
	if r.body["createdBy"] != "user:default/pat" {
		t.Fatalf("createdBy: %s", r.raw)
	}
	update := map[string]any{"displayName": "ML Research", "backstageGroup": "group:default/ml-research",
		"members": []map[string]string{{"subject": "user:default/alice", "role": "maintainer"}}}
	// bob is a developer through the group: may not manage; carol is no member.
	e.do("PUT", "/api/v1/teams/ml-research", bob, update).must(t, 403)
	e.do("PUT", "/api/v1/teams/ml-research", carol, update).must(t, 403)
	e.do("PUT", "/api/v1/teams/ml-research", alice, update).must(t, 200)
	e.do("DELETE", "/api/v1/teams/ml-research", alice, nil).must(t, 403)
	// Everyone authenticated may read the directory.
	e.do("GET", "/api/v1/teams/ml-research", carol, nil).must(t, 200)

	// whoami lists alice's grant.
	r = e.do("GET", "/api/v1/whoami", alice, nil).must(t, 200)
	if !strings.Contains(string(r.raw), `"role":"maintainer"`) {
		t.Fatalf("alice's grants: %s", r.raw)
	}

	// Tokens never grant more than their issuer holds.
	e.do("POST", "/api/v1/tokens", bob, map[string]any{"name": "x", "team": "ml-research", "verbs": []string{"manage"}}).must(t, 403)
	e.do("POST", "/api/v1/tokens", bob, map[string]any{"name": "x", "team": "ml-research", "verbs": []string{"admin"}}).must(t, 403)
	e.do("POST", "/api/v1/tokens", bob, map[string]any{"name": "x", "verbs": []string{"read"}}).must(t, 422)
	readOnly := e.issue(bob, map[string]any{"name": "ci", "team": "ml-research", "verbs": []string{"read"}})
	e.do("GET", "/api/v1/teams", readOnly, nil).must(t, 200)
	e.do("PUT", "/api/v1/teams/ml-research", readOnly, update).must(t, 403)
	r = e.do("GET", "/api/v1/whoami", readOnly, nil).must(t, 200)
	if r.body["subject"] != "user:default/bob" || r.body["kind"] != "token" {
		t.Fatalf("token whoami: %s", r.raw)
	}
	manage := e.issue(alice, map[string]any{"name": "ci", "team": "ml-research", "verbs": []string{"read", "manage"}})
	e.do("PUT", "/api/v1/teams/ml-research", manage, update).must(t, 200)
	// A team-scoped token cannot touch another team.
	e.do("POST", "/api/v1/teams", platform, teamReq("other")).must(t, 201)
	e.do("PUT", "/api/v1/teams/other", manage, update).must(t, 403)
	// The audit trail is for admins only.
	e.do("GET", "/api/v1/audit", alice, nil).must(t, 403)
	e.do("GET", "/api/v1/audit", platform, nil).must(t, 200)
}

func TestTokensExpireAndRevoke(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/tokens", adminToken, map[string]any{"name": "short", "verbs": []string{"read"}, "ttl": "1h"}).must(t, 201)
	tok, id := r.body["token"].(string), r.body["id"].(string)
	e.do("GET", "/api/v1/teams", tok, nil).must(t, 200)
	e.do("GET", "/api/v1/tokens/"+id, adminToken, nil).must(t, 200)
	e.do("DELETE", "/api/v1/tokens/"+id, adminToken, nil).must(t, 204)
	e.do("DELETE", "/api/v1/tokens/"+id, adminToken, nil).must(t, 204)
	r = e.do("GET", "/api/v1/teams", tok, nil).must(t, 401)
	if !strings.Contains(r.errorMessage(), "revoked") {
		t.Fatalf("revoked answer: %s", r.raw)
	}
	tok = e.issue(adminToken, map[string]any{"name": "short", "verbs": []string{"read"}, "ttl": "1h"})
	e.clock.Advance(2 * time.Hour)
	e.do("GET", "/api/v1/teams", tok, nil).must(t, 401)
	e.do("POST", "/api/v1/tokens", adminToken, map[string]any{"name": "x", "verbs": []string{"read"}, "ttl": "100000h"}).must(t, 422)
	r = e.do("GET", "/api/v1/tokens?includeRevoked=true", adminToken, nil).must(t, 200)
	if n := len(r.body["items"].([]any)); n != 2 {
		t.Fatalf("%d tokens listed, want 2: %s", n, r.raw)
	}
}

func (r resp) errorMessage() string {
	m, _ := r.body["error"].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func TestOptimisticConcurrency(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/teams", adminToken, teamReq("vision")).must(t, 201)
	etag := r.header.Get("ETag")
	if etag != `"1"` {
		t.Fatalf("ETag %q", etag)
	}
	upd := map[string]any{"displayName": "Vision"}
	r = e.do("PUT", "/api/v1/teams/vision", adminToken, upd, "If-Match", etag).must(t, 200)
	if r.header.Get("ETag") != `"2"` || r.body["version"] != float64(2) {
		t.Fatalf("after update: %v %s", r.header, r.raw)
	}
	r = e.do("PUT", "/api/v1/teams/vision", adminToken, upd, "If-Match", etag).must(t, 412)
	if r.errorCode() != "precondition_failed" {
		t.Fatal(string(r.raw))
	}
	e.do("PUT", "/api/v1/teams/vision", adminToken, upd, "If-Match", `"garbage"`).must(t, 412)
	e.do("DELETE", "/api/v1/teams/vision", adminToken, nil, "If-Match", etag).must(t, 412)
	e.do("DELETE", "/api/v1/teams/vision", adminToken, nil, "If-Match", `"2"`).must(t, 204)
	e.do("GET", "/api/v1/teams/vision", adminToken, nil).must(t, 404)
	e.do("PUT", "/api/v1/teams/vision", adminToken, upd).must(t, 404)
}

// A team's fair-share weight is 1 unless set, set on create and update
// (an update without it resets it, as the PUT replaces every mutable
// field), returned by get and list, changed only by platform admins, and
// its change is audited.
func TestTeamFairShareWeight(t *testing.T) {
	e := newEnv(t)
	weight := func(r resp) any { return r.body["fairShareWeight"] }
	if r := e.do("POST", "/api/v1/teams", adminToken, teamReq("plain")).must(t, 201); weight(r) != float64(1) {
		t.Errorf("created without a weight: %s", r.raw)
	}
	body := teamReq("heavy")
	body["fairShareWeight"] = 3
	if r := e.do("POST", "/api/v1/teams", adminToken, body).must(t, 201); weight(r) != float64(3) {
		t.Errorf("created with weight 3: %s", r.raw)
	}
	if r := e.do("GET", "/api/v1/teams/heavy", adminToken, nil).must(t, 200); weight(r) != float64(3) {
		t.Errorf("get: %s", r.raw)
	}
	r := e.do("PUT", "/api/v1/teams/heavy", adminToken, map[string]any{"displayName": "Heavy", "fairShareWeight": 0.5}, "X-Request-Id", "req-weight").must(t, 200)
	if weight(r) != 0.5 {
		t.Errorf("updated to 0.5: %s", r.raw)
	}
	r = e.do("GET", "/api/v1/teams", adminToken, nil).must(t, 200)
	got := map[string]any{}
	for _, it := range r.body["items"].([]any) {
		m := it.(map[string]any)
		got[m["name"].(string)] = m["fairShareWeight"]
	}
	if got["plain"] != float64(1) || got["heavy"] != 0.5 {
		t.Errorf("list: %v", got)
	}
	if r := e.do("PUT", "/api/v1/teams/heavy", adminToken, map[string]any{"displayName": "Heavy"}).must(t, 200); weight(r) != float64(1) {
		t.Errorf("an update without a weight keeps %v, want the default 1", weight(r))
	}
	r = e.do("PUT", "/api/v1/teams/heavy", adminToken, map[string]any{"fairShareWeight": 1000}).must(t, 422)
	if !strings.Contains(r.errorMessage()+string(r.raw), "fairShareWeight") {
		t.Errorf("a weight of 1000 is refused without naming the field: %s", r.raw)
	}
	// A team maintainer may update the team but not change its weight.
	e.do("PUT", "/api/v1/teams/heavy", adminToken, map[string]any{"fairShareWeight": 2,
		"members": []map[string]string{{"subject": "user:default/alice", "role": "maintainer"}}}).must(t, 200)
	alice := e.backstage("user:default/alice")
	r = e.do("PUT", "/api/v1/teams/heavy", alice, map[string]any{"displayName": "Heavy"}).must(t, 403)
	if !strings.Contains(r.errorMessage(), "fairShareWeight 2") {
		t.Errorf("a maintainer's update that resets the weight: %s", r.raw)
	}
	e.do("PUT", "/api/v1/teams/heavy", alice, map[string]any{"displayName": "Heavy", "fairShareWeight": 5}).must(t, 403)
	r = e.do("PUT", "/api/v1/teams/heavy", alice, map[string]any{"displayName": "Heavy", "fairShareWeight": 2,
		"members": []map[string]string{{"subject": "user:default/alice", "role": "maintainer"}}}).must(t, 200)
	if weight(r) != float64(2) {
		t.Errorf("a maintainer's update keeping the weight: %s", r.raw)
	}
	// Nor its GPU quota: that goes through a quota request an admin approves.
	members := []map[string]string{{"subject": "user:default/alice", "role": "maintainer"}}
	quota := []map[string]any{{"gpuType": "a100", "nominal": 4}}
	e.do("PUT", "/api/v1/teams/heavy", adminToken, map[string]any{"fairShareWeight": 2, "members": members, "gpuQuota": quota}).must(t, 200)
	r = e.do("PUT", "/api/v1/teams/heavy", alice, map[string]any{"fairShareWeight": 2, "members": members,
		"gpuQuota": []map[string]any{{"gpuType": "a100", "nominal": 64}}}).must(t, 403)
	if !strings.Contains(r.errorMessage(), "quota-requests") {
		t.Errorf("a maintainer raising the team's GPU quota: %s", r.raw)
	}
	e.do("PUT", "/api/v1/teams/heavy", alice, map[string]any{"displayName": "Heavy!", "fairShareWeight": 2, "members": members,
		"gpuQuota": quota}).must(t, 200)

	r = e.do("GET", "/api/v1/audit?requestId=req-weight", adminToken, nil).must(t, 200)
	items := r.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("audit events of the weight change: %s", r.raw)
	}
	if ev := items[0].(map[string]any); ev["action"] != "team.update" || ev["target"] != "teams/heavy" || ev["outcome"] != "success" {
		t.Errorf("audit event of the weight change: %v", ev)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	e := newEnv(t)
	first := e.do("POST", "/api/v1/teams", adminToken, teamReq("nlp"), "Idempotency-Key", "k1").must(t, 201)
	again := e.do("POST", "/api/v1/teams", adminToken, teamReq("nlp"), "Idempotency-Key", "k1").must(t, 201)
	if string(first.raw) != string(again.raw) || again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("replay differs:\n%s\n%s", first.raw, again.raw)
	}
	r := e.do("POST", "/api/v1/teams", adminToken, teamReq("other"), "Idempotency-Key", "k1").must(t, 422)
	if r.errorCode() != "idempotency_key_reused" {
		t.Fatal(string(r.raw))
	}
	// Without a key the duplicate is a conflict, as it should be.
	e.do("POST", "/api/v1/teams", adminToken, teamReq("nlp")).must(t, 409)

	// Concurrent retries of one request create one team.
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.do("POST", "/api/v1/teams", adminToken, teamReq("speech"), "Idempotency-Key", "k2").status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		if s != 201 && s != 409 {
			t.Fatalf("concurrent retries answered %v", statuses)
		}
	}
	r = e.do("GET", "/api/v1/teams", adminToken, nil).must(t, 200)
	if n := len(r.body["items"].([]any)); n != 2 {
		t.Fatalf("%d teams, want 2", n)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 7; i++ {
		e.do("POST", "/api/v1/teams", adminToken, teamReq(fmt.Sprintf("team-%02d", i))).must(t, 201)
	}
	var names []string
	path := "/api/v1/teams?limit=3"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := e.do("GET", path, adminToken, nil).must(t, 200)
		for _, it := range r.body["items"].([]any) {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		next, _ := r.body["nextPageToken"].(string)
		if next == "" {
			break
		}
		path = "/api/v1/teams?limit=3&pageToken=" + next
	}
	if len(names) != 7 || names[0] != "team-00" || names[6] != "team-06" {
		t.Fatalf("pages gave %v", names)
	}
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	alice := e.backstage("user:default/alice")
	e.do("POST", "/api/v1/teams", adminToken, teamReq("audited")).must(t, 201)
	e.do("POST", "/api/v1/teams", alice, teamReq("sneaky")).must(t, 403)
	e.do("POST", "/api/v1/teams", "", teamReq("anon")).must(t, 401)
	r := e.do("DELETE", "/api/v1/teams/audited", adminToken, nil, "X-Request-Id", "req-123").must(t, 204)
	_ = r
	r = e.do("GET", "/api/v1/audit", adminToken, nil).must(t, 200)
	items := r.body["items"].([]any)
	if len(items) != 4 {
		t.Fatalf("%d events, want 4: %s", len(items), r.raw)
	}
	newest := items[0].(map[string]any)
	if newest["action"] != "team.delete" || newest["target"] != "teams/audited" || newest["requestId"] != "req-123" || newest["outcome"] != "success" {
		t.Fatalf("newest event: %v", newest)
	}
	r = e.do("GET", "/api/v1/audit?outcome=denied", adminToken, nil).must(t, 200)
	denied := r.body["items"].([]any)
	if len(denied) != 2 {
		t.Fatalf("denied events: %s", r.raw)
	}
	r = e.do("GET", "/api/v1/audit?actor=user:default/alice", adminToken, nil).must(t, 200)
	if it := r.body["items"].([]any); len(it) != 1 || it[0].(map[string]any)["target"] != "teams/sneaky" {
		t.Fatalf("actor filter: %s", r.raw)
	}
	r = e.do("GET", "/api/v1/audit?target=teams/*&action=team.create&limit=1", adminToken, nil).must(t, 200)
	if it := r.body["items"].([]any); len(it) != 1 || r.body["nextPageToken"] == nil {
		t.Fatalf("prefix filter page: %s", r.raw)
	}
}

func TestObservability(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/teams", adminToken, nil, "X-Request-Id", "abc-1").must(t, 200)
	if r.header.Get("X-Request-Id") != "abc-1" {
		t.Fatalf("request id not echoed: %v", r.header)
	}
	r = e.do("GET", "/api/v1/openapi.yaml", "", nil).must(t, 200)
	if string(r.raw) != string(api.Spec) {
		t.Fatal("served document differs from the embedded contract")
	}
	r = e.do("GET", "/metrics", "", nil).must(t, 200)
	for _, want := range []string{`mlportal_http_requests_total{method="GET",route="/api/v1/teams",status="200"} 1`,
		`mlportal_http_request_duration_seconds_bucket{method="GET",route="/api/v1/teams",status="200"`} {
		if !strings.Contains(string(r.raw), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
}

func TestLifecycleTemplates(t *testing.T) {
	e := newEnv(t)
	alice := e.backstage("user:default/alice")
	r := e.do("GET", "/api/v1/lifecycle-templates", alice, nil).must(t, 200)
	names := map[string]bool{}
	for _, it := range r.body["items"].([]any) {
		m := it.(map[string]any)
		names[m["name"].(string)+"/"+m["pattern"].(string)] = true
	}
	for _, want := range []string{"training/training", "batch-inference/batch-inference", "realtime-serving/realtime-serving"} {
		if !names[want] {
			t.Fatalf("%s not listed: %s", want, r.raw)
		}
	}
	r = e.do("GET", "/api/v1/lifecycle-templates/realtime-serving", alice, nil).must(t, 200)
	if r.body["serving"] == nil || len(r.body["stages"].([]any)) == 0 || r.body["job"].(map[string]any)["timeout"] == "" {
		t.Fatalf("realtime-serving: %s", r.raw)
	}
	e.do("GET", "/api/v1/lifecycle-templates/no-such-template", alice, nil).must(t, 404)
	e.do("GET", "/api/v1/lifecycle-templates/training?version=not-semver", alice, nil).must(t, 422)
	e.do("GET", "/api/v1/lifecycle-templates", "", nil).must(t, 401)
}
