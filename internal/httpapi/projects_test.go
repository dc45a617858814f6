package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/project"
)

// projectTeam creates team fraud with alice a developer and victor a viewer.
func (e *env) projectTeam() (alice, victor string) {
	e.t.Helper()
	platform := e.backstage("user:default/pat", "group:default/platform-admins")
	e.do("POST", "/api/v1/teams", platform, map[string]any{"name": "fraud", "backstageGroup": "group:default/fraud",
		"members": []map[string]string{{"subject": "user:default/alice", "role": "developer"},
			{"subject": "user:default/victor", "role": "viewer"}}}).must(e.t, 201)
	return e.backstage("user:default/alice"), e.backstage("user:default/victor")
}

// waitProject polls the project until its saga stops.
func (e *env) waitProject(id string) resp {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do("GET", "/api/v1/projects/"+id, adminToken, nil).must(e.t, 200)
		if s := r.body["status"]; s == "succeeded" || s == "failed" {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("project %s did not finish: %s", id, r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func steps(r resp) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, s := range r.body["steps"].([]any) {
		m := s.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestProjectBootstrapMakesACloneableRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	e := newEnv(t)
	alice, victor := e.projectTeam()
	req := map[string]any{"team": "fraud", "name": "churn", "template": "training", "description": "Predicts churn"}
	r := e.do("POST", "/api/v1/projects", alice, req).must(t, 201)
	id := r.body["id"].(string)
	if !strings.HasPrefix(id, "prj_") || r.header.Get("Location") != "/api/v1/projects/"+id {
		t.Fatalf("id %q, Location %q", id, r.header.Get("Location"))
	}
	r = e.waitProject(id)
	if r.body["status"] != "succeeded" {
		t.Fatalf("saga: %s", r.raw)
	}
	st := steps(r)
	for name, want := range map[string]string{"repository": "done", "namespace": "skipped", "binding": "done", "catalog": "done"} {
		if st[name]["status"] != want {
			t.Errorf("step %s is %v, want %s: %s", name, st[name]["status"], want, r.raw)
		}
	}
	if st["namespace"]["detail"] != project.LocalModeDetail {
		t.Errorf("namespace detail %v", st["namespace"]["detail"])
	}
	if r.body["entityRef"] != "system:default/churn" || r.body["templateVersion"] == "" {
		t.Errorf("entityRef %v, templateVersion %v", r.body["entityRef"], r.body["templateVersion"])
	}

	// The same request again is the same project; nothing is duplicated.
	again := e.do("POST", "/api/v1/projects", alice, req).must(t, 200)
	if again.body["id"] != id {
		t.Fatalf("second create: id %v, want %s", again.body["id"], id)
	}
	// Bad requests.
	other := map[string]any{"team": "fraud", "name": "churn", "template": "training", "description": "Something else"}
	if c := e.do("POST", "/api/v1/projects", alice, other).must(t, 409).errorCode(); c != "already_exists" {
		t.Errorf("taken name: code %s", c)
	}
	e.do("POST", "/api/v1/projects", adminToken, map[string]any{"team": "nobody", "name": "churn", "template": "training"}).must(t, 404)
	if f := e.do("POST", "/api/v1/projects", alice, map[string]any{"team": "fraud", "name": "Bad_Name", "template": "training"}).must(t, 422).fields(); !contains(f, "name") {
		t.Errorf("bad name: fields %v", f)
	}
	if f := e.do("POST", "/api/v1/projects", alice, map[string]any{"team": "fraud", "name": "x1", "template": "no-such"}).must(t, 422).fields(); !contains(f, "template") {
		t.Errorf("unknown template: fields %v", f)
	}
	if f := e.do("POST", "/api/v1/projects", alice, map[string]any{"team": "fraud", "name": "x2", "template": "training",
		"overrides": map[string]any{"job": map[string]any{"resources": map[string]any{"cpu": "lots"}}}}).must(t, 422).fields(); !contains(f, "overrides.job.resources.cpu") {
		t.Errorf("bad override: fields %v", f)
	}
	e.do("POST", "/api/v1/projects", victor, map[string]any{"team": "fraud", "name": "mine", "template": "training"}).must(t, 403)
	e.do("GET", "/api/v1/projects/"+id, victor, nil).must(t, 200)
	e.do("POST", "/api/v1/projects/"+id+"/retry", alice, nil).must(t, 409)
	if items := e.do("GET", "/api/v1/projects?team=fraud", victor, nil).must(t, 200).body["items"].([]any); len(items) != 1 {
		t.Errorf("list: %d projects, want 1", len(items))
	}

	// The repository clones with the real git CLI and holds the rendered skeleton.
	work := filepath.Join(t.TempDir(), "churn")
	url := strings.Replace(e.url, "http://", "http://x:"+adminToken+"@", 1) + "/git/fraud/churn.git"
	runGit(t, ".", "clone", "--quiet", url, work)
	if n := runGit(t, work, "rev-list", "--count", "HEAD"); n != "1" {
		t.Errorf("%s commits, want 1", n)
	}
	for file, want := range map[string]string{
		"README.md":                         "churn",
		"src/train.py":                      "mlflow",
		".github/workflows/ml-pipeline.yml": "${{ secrets.MLPORTAL_TOKEN }}",
		"catalog-info.yaml":                 "name: churn",
	} {
		b, err := os.ReadFile(filepath.Join(work, file))
		if err != nil {
			t.Errorf("clone lacks %s: %v", file, err)
			continue
		}
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not contain %q", file, want)
		}
	}
}

// sse reads server-sent events until the stream ends.
func (e *env) sse(path, token string) []struct{ event, data string } {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), "GET", e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		e.t.Fatalf("events: status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var out []struct{ event, data string }
	var ev string
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			out = append(out, struct{ event, data string }{ev, strings.TrimPrefix(line, "data: ")})
		}
	}
	return out
}

func TestProjectEventsStreamStepsAndDone(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	e := newEnv(t)
	alice, _ := e.projectTeam()
	r := e.do("POST", "/api/v1/projects", alice, map[string]any{"team": "fraud", "name": "fraud-score", "template": "training"}).must(t, 201)
	events := e.sse("/api/v1/projects/"+r.body["id"].(string)+"/events", alice)
	if len(events) == 0 || events[len(events)-1].event != "done" {
		t.Fatalf("the stream did not end with done: %v", events)
	}
	final := map[string]string{}
	for _, ev := range events[:len(events)-1] {
		if ev.event != "step" {
			t.Fatalf("event %q before done", ev.event)
		}
		var st struct{ Name, Status string }
		if err := json.Unmarshal([]byte(ev.data), &st); err != nil {
			t.Fatalf("step data %q: %v", ev.data, err)
		}
		final[st.Name] = st.Status
	}
	want := map[string]string{"repository": "done", "namespace": "skipped", "binding": "done", "catalog": "done"}
	for k, v := range want {
		if final[k] != v {
			t.Errorf("last step event of %s: %q, want %q (all: %v)", k, final[k], v, events)
		}
	}
	var done struct{ Status string }
	_ = json.Unmarshal([]byte(events[len(events)-1].data), &done)
	if done.Status != "succeeded" {
		t.Errorf("done: %s", events[len(events)-1].data)
	}
}

func TestProjectQuotaAboveTheTeamCeilingIs422(t *testing.T) {
	e := newEnv(t)
	platform := e.backstage("user:default/pat", "group:default/platform-admins")
	e.do("POST", "/api/v1/teams", platform, map[string]any{"name": "ml-research", "backstageGroup": "group:default/ml-research",
		"members":  []map[string]string{{"subject": "user:default/alice", "role": "developer"}},
		"gpuQuota": []map[string]any{{"gpuType": "nvidia-a100", "nominal": 6, "borrowingLimit": 2}}}).must(t, 201)
	alice := e.backstage("user:default/alice")
	create := func(name string, quota map[string]any) resp {
		return e.do("POST", "/api/v1/projects", alice, map[string]any{"team": "ml-research", "name": name, "template": "training", "quota": quota})
	}
	reason := func(r resp) string {
		m, _ := r.body["error"].(map[string]any)
		ds, _ := m["details"].([]any)
		for _, d := range ds {
			if dm := d.(map[string]any); dm["field"] == "quota.gpus" {
				s, _ := dm["reason"].(string)
				return s
			}
		}
		return ""
	}

	r := create("big", map[string]any{"gpus": 16})
	if r.status != 422 || r.errorCode() != "invalid_argument" ||
		reason(r) != "16 is above team ml-research's ceiling of 8 GPUs (nominal 6 + borrowing 2); ask a platform admin to raise the team's quota" {
		t.Fatalf("above the ceiling: %d %s", r.status, r.raw)
	}
	r = create("churn", map[string]any{"gpus": 5, "memory": "64Gi"}).must(t, 201)
	q, _ := r.body["quota"].(map[string]any)
	if q["gpus"] != 5.0 || q["memory"] != "64Gi" || q["cpu"] != "32" {
		t.Errorf("quota %v, want 5 GPUs, 64Gi and the default cpu: %s", q, r.raw)
	}
	r = create("gbm", map[string]any{"gpus": 4})
	if r.status != 422 || !strings.Contains(reason(r), "projects churn (5) already hold 5") {
		t.Fatalf("beside churn: %d %s", r.status, r.raw)
	}
	create("gbm", map[string]any{"gpus": 3}).must(t, 201)
	r = create("gpus", map[string]any{"gpus": -1})
	if r.status != 422 || !contains(r.fields(), "quota.gpus") {
		t.Errorf("negative GPUs: %d %s", r.status, r.raw)
	}
}
