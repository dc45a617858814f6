package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// caller sends JSON requests to a test server with a bearer token and
// fails the test on an unexpected status.
type caller struct {
	t     *testing.T
	url   string
	token string
}

func (c caller) call(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(c.t.Context(), method, c.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body = http.NoBody
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %v", method, path, res.StatusCode, want, out)
	}
	return out
}

// settle polls the project until its status is not pending, running or
// deleting (or it is gone: nil), for at most a minute.
func (c caller) settle(id string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(c.t.Context(), "GET", c.url+"/api/v1/projects/"+id, http.NoBody)
		req.Header.Set("Authorization", "Bearer "+c.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		var p map[string]any
		_ = json.NewDecoder(res.Body).Decode(&p)
		res.Body.Close()
		if res.StatusCode == http.StatusNotFound {
			return nil
		}
		switch p["status"] {
		case "pending", "running", "deleting":
		default:
			return p
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("project %s did not settle: %v", id, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
