package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/store"
)

// quotaEnv is newEnv with priced a100s and a second handle on the
// server's SQLite database, through which the tests record projects and
// jobs (the jobs API and its controller are tested on their own).
func quotaEnv(t *testing.T) (*env, *store.Store) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	clk := clock.NewFake(time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC))
	srv := apptest.Start(t, app.Options{AdminToken: adminToken, Clock: clk}, func(cfg *config.Config) {
		cfg.Auth.Admins = []string{"group:default/platform-admins"}
		cfg.Auth.Backstage.PublicKeys = []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
		cfg.Costs.GPUHourPrices = map[string]config.GPUHourPrice{"a100": {OnDemand: 3, Spot: 1}}
	})
	st, err := store.Open(t.Context(), store.SQLite, srv.Config.Database.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, url: srv.URL, clock: clk, bsPriv: priv}, st
}

func record(t *testing.T, st *store.Store, now time.Time, js ...jobs.Job) {
	t.Helper()
	for _, j := range js {
		j.Team, j.Name, j.Replicas, j.GPUType, j.SubmittedAt, j.UpdatedAt, j.Version = "fraud", j.ID, 1, "a100", now, now, 1
		if err := st.CreateJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuotaRequestsThroughTheAPI(t *testing.T) {
	e, st := quotaEnv(t)
	now := e.clock.Now()
	platform := e.backstage("user:default/pat", "group:default/platform-admins")
	alice, victor := e.backstage("user:default/alice"), e.backstage("user:default/victor")
	e.do("POST", "/api/v1/teams", platform, map[string]any{"name": "fraud", "gpuQuota": []map[string]any{{"gpuType": "a100", "nominal": 8, "borrowingLimit": 4}},
		"members": []map[string]string{{"subject": "user:default/alice", "role": "developer"}, {"subject": "user:default/victor", "role": "viewer"}}}).must(t, 201)
	if err := st.CreateProject(t.Context(), project.Project{ID: "prj_churn", Team: "fraud", Name: "churn", Template: "training", TemplateVersion: "1.0.0",
		SCM: project.SCMLocal, Quota: project.Quota{GPUs: 4, CPU: "32", Memory: "128Gi"}, Status: project.StatusSucceeded,
		CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	record(t, st, now, jobs.Job{ID: "job_run", Project: "churn", GPUs: 4, State: jobs.StateRunning, StartedAt: now.Add(-time.Hour), Pool: "on-demand"},
		jobs.Job{ID: "job_wait", Project: "churn", GPUs: 8, State: jobs.StateQueued})

	// The quota view: allocated, in use and by which jobs, borrowed, available.
	q := e.do("GET", "/api/v1/teams/fraud/quota", victor, nil).must(t, 200).body
	types := q["gpuTypes"].([]any)
	a100 := types[0].(map[string]any)
	if len(types) != 1 || a100["nominal"] != 8.0 || a100["inUse"] != 4.0 || a100["available"] != 4.0 || a100["borrowed"] != 0.0 || q["ceiling"] != 12.0 {
		t.Fatalf("quota: %v", q)
	}
	if js := a100["jobs"].([]any); len(js) != 1 || js[0].(map[string]any)["id"] != "job_run" || js[0].(map[string]any)["gpus"] != 4.0 {
		t.Errorf("jobs in use: %v", js)
	}
	e.do("GET", "/api/v1/teams/nobody/quota", victor, nil).must(t, 404)

	// Requests: members file them; the justification is required.
	req := map[string]any{"gpuType": "a100", "gpus": 16, "project": "churn", "projectGpus": 12, "duration": "720h",
		"justification": "retraining the churn model on a year of data"}
	e.do("POST", "/api/v1/teams/fraud/quota-requests", victor, req).must(t, 403)
	short := map[string]any{"gpuType": "a100", "gpus": 16, "justification": "more please"}
	if f := e.do("POST", "/api/v1/teams/fraud/quota-requests", alice, short).must(t, 422).fields(); !contains(f, "justification") {
		t.Errorf("short justification: fields %v", f)
	}
	r := e.do("POST", "/api/v1/teams/fraud/quota-requests", alice, req).must(t, 201)
	id := r.body["id"].(string)
	if r.body["status"] != "pending" || r.header.Get("Location") != "/api/v1/teams/fraud/quota-requests/"+id || r.body["duration"] != "720h" {
		t.Fatalf("created: %s %s", r.header.Get("Location"), r.raw)
	}

	// Platform admins approve; the team's quota and the project's change together.
	e.do("POST", "/api/v1/teams/fraud/quota-requests/"+id+"/approve", alice, map[string]any{}).must(t, 403)
	a := e.do("POST", "/api/v1/teams/fraud/quota-requests/"+id+"/approve", platform, map[string]any{"comment": "for the retraining"}).must(t, 200).body
	if a["status"] != "approved" || a["applied"] != true || a["comment"] != "for the retraining" || a["expiresAt"] == nil {
		t.Fatalf("approved: %v", a)
	}
	if ch := a["change"].(map[string]any); ch["nominalBefore"] != 8.0 || ch["nominalAfter"] != 16.0 || ch["projectGpusAfter"] != 12.0 {
		t.Errorf("change: %v", ch)
	}
	again := e.do("POST", "/api/v1/teams/fraud/quota-requests/"+id+"/approve", platform, nil).must(t, 200).body
	if again["version"] != a["version"] {
		t.Errorf("approving twice changed the request: %v", again)
	}
	tm := e.do("GET", "/api/v1/teams/fraud", victor, nil).must(t, 200).body
	if gq := tm["gpuQuota"].([]any)[0].(map[string]any); gq["nominal"] != 16.0 || gq["borrowingLimit"] != 4.0 {
		t.Errorf("team quota after approval: %v", gq)
	}
	if p, _ := st.GetProjectByName(t.Context(), "fraud", "churn"); p.Quota.GPUs != 12 {
		t.Errorf("project quota after approval: %d", p.Quota.GPUs)
	}
	if c := e.do("POST", "/api/v1/teams/fraud/quota-requests/"+id+"/deny", platform, map[string]any{"comment": "not needed after all"}).must(t, 409).errorCode(); c != "conflict" {
		t.Errorf("deny an approved request: %s", c)
	}

	// Another is denied, with a reason.
	e.clock.Advance(time.Minute)
	id2 := e.do("POST", "/api/v1/teams/fraud/quota-requests", alice, map[string]any{"gpuType": "h100", "gpus": 64,
		"justification": "a foundation model from scratch"}).must(t, 201).body["id"].(string)
	e.do("POST", "/api/v1/teams/fraud/quota-requests/"+id2+"/deny", platform, map[string]any{}).must(t, 422)
	d := e.do("POST", "/api/v1/teams/fraud/quota-requests/"+id2+"/deny", platform, map[string]any{"comment": "no h100s before Q3"}).must(t, 200).body
	if d["status"] != "denied" || d["decidedBy"] != "user:default/pat" {
		t.Errorf("denied: %v", d)
	}
	list := e.do("GET", "/api/v1/teams/fraud/quota-requests?status=approved", victor, nil).must(t, 200).body["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("approved requests: %v", list)
	}
	e.do("GET", "/api/v1/teams/fraud/quota-requests/"+id2, victor, nil).must(t, 200)
	e.do("GET", "/api/v1/teams/other/quota-requests/"+id2, victor, nil).must(t, 404)
	e.do("GET", "/api/v1/teams/fraud/quota-requests/nope", victor, nil).must(t, 422)

	// Everything is audited, on the request.
	for action, target := range map[string]string{"quotaRequest.create": id2, "quotaRequest.approve": id, "quotaRequest.deny": id2} {
		items := e.do("GET", "/api/v1/audit?action="+action, adminToken, nil).must(t, 200).body["items"].([]any)
		found := false
		for _, it := range items {
			ev := it.(map[string]any)
			found = found || ev["target"] == "teams/fraud/quota-requests/"+target && ev["outcome"] == "success"
		}
		if !found {
			t.Errorf("no successful %s on %s in %v", action, target, items)
		}
	}
}

func TestCostsAndBudgetsThroughTheAPI(t *testing.T) {
	e, st := quotaEnv(t)
	now := e.clock.Now()
	platform := e.backstage("user:default/pat", "group:default/platform-admins")
	alice := e.backstage("user:default/alice")
	e.do("POST", "/api/v1/teams", platform, map[string]any{"name": "fraud",
		"members": []map[string]string{{"subject": "user:default/alice", "role": "maintainer"}}}).must(t, 201)
	record(t, st, now,
		jobs.Job{ID: "job_1", Project: "churn", GPUs: 2, State: jobs.StateSucceeded, FinishedAt: now.Add(-24 * time.Hour), GPUSeconds: 7200, Cost: 6},
		jobs.Job{ID: "job_2", Project: "scoring", GPUs: 1, State: jobs.StateRunning, StartedAt: now.Add(-2 * time.Hour), Pool: "spot"},
		jobs.Job{ID: "job_3", Project: "churn", GPUs: 1, State: jobs.StateFailed, FinishedAt: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), GPUSeconds: 3600, Cost: 3})

	r := e.do("GET", "/api/v1/costs?team=fraud&groupBy=project", alice, nil).must(t, 200).body
	items := r["items"].([]any)
	if r["currency"] != "USD" || len(items) != 2 || r["total"].(map[string]any)["cost"] != 11.0 || r["total"].(map[string]any)["gpuHours"] != 5.0 {
		t.Fatalf("costs by project: %v", r)
	}
	if sc := items[1].(map[string]any); sc["project"] != "scoring" || sc["cost"] != 2.0 || sc["jobs"] != 1.0 {
		t.Errorf("the running spot job counts 2 hours at 1 USD: %v", sc)
	}
	from := url.QueryEscape(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
	r = e.do("GET", "/api/v1/costs?groupBy=month&from="+from, alice, nil).must(t, 200).body
	if items := r["items"].([]any); len(items) != 1 || items[0].(map[string]any)["month"] != "2026-11" || items[0].(map[string]any)["cost"] != 8.0 {
		t.Errorf("November by month: %v", r)
	}
	e.do("GET", "/api/v1/costs?project=churn", alice, nil).must(t, 422)
	e.do("GET", "/api/v1/costs?groupBy=day", alice, nil).must(t, 422)
	e.do("GET", "/api/v1/costs", "", nil).must(t, 401)

	// Budgets: anyone reads, platform admins set.
	b := e.do("GET", "/api/v1/teams/fraud/budget", alice, nil).must(t, 200)
	if b.body["state"] != "none" || b.body["spent"] != 8.0 || b.header.Get("ETag") != "" {
		t.Fatalf("no budget: %s", b.raw)
	}
	e.do("PUT", "/api/v1/teams/fraud/budget", alice, map[string]any{"monthlyAmount": 100}).must(t, 403)
	e.do("PUT", "/api/v1/teams/fraud/budget", platform, map[string]any{"monthlyAmount": 0}).must(t, 422)
	b = e.do("PUT", "/api/v1/teams/fraud/budget", platform, map[string]any{"monthlyAmount": 10, "hardLimit": true}).must(t, 200)
	if b.body["state"] != "warning" || b.body["warningThreshold"] != 0.8 || b.header.Get("ETag") != `"1"` || b.body["month"] != "2026-11" {
		t.Fatalf("set: %s", b.raw)
	}
	e.do("PUT", "/api/v1/teams/fraud/budget", platform, map[string]any{"monthlyAmount": 8}, "If-Match", `"7"`).must(t, 412)
	b = e.do("PUT", "/api/v1/teams/fraud/budget", platform, map[string]any{"monthlyAmount": 8, "hardLimit": true}, "If-Match", `"1"`).must(t, 200)
	if b.body["state"] != "exceeded" || b.body["fraction"] != 1.0 {
		t.Fatalf("exceeded: %s", b.raw)
	}
	e.do("PUT", "/api/v1/teams/nobody/budget", platform, map[string]any{"monthlyAmount": 8}).must(t, 404)
	items = e.do("GET", "/api/v1/audit?action=teamBudget.set&target="+url.QueryEscape("teams/fraud/budget"), adminToken, nil).must(t, 200).body["items"].([]any)
	if len(items) < 3 {
		t.Errorf("budget changes audited: %v", items)
	}
	if !strings.Contains(fmt.Sprint(items), "user:default/pat") {
		t.Errorf("audit actor: %v", items)
	}
}
