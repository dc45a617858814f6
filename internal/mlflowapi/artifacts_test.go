package mlflowapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/testenv"
)

// TestArtifactsStreamPastTheBodyLimit uploads a file larger than
// mlportal.server.maxBodyBytes (1 MiB by default) through the proxied
// artifact API, lists it and reads it back with its digest.
// It runs on the filesystem store and on a real S3-compatible server.
func TestArtifactsStreamPastTheBodyLimit(t *testing.T) {
	t.Run("fs", func(t *testing.T) { testArtifacts(t, start(t, false)) })
	t.Run("s3", func(t *testing.T) {
		s3 := testenv.S3(t)
		testArtifacts(t, startWith(t, func(cfg *config.Config) {
			cfg.Artifacts = config.ArtifactsConfig{Backend: "s3", S3: config.ArtifactsS3{Endpoint: s3.Endpoint, Region: s3.Region,
				Bucket: s3.Bucket, AccessKeyID: s3.AccessKeyID, SecretAccessKey: s3.SecretAccessKey, PathStyle: true}}
		}))
	})
}

func testArtifacts(t *testing.T, p *portal) {
	var created struct {
		ExperimentID string `json:"experiment_id"`
	}
	p.mlflow("POST", "experiments/create", map[string]any{"name": "files"}, 200, &created)
	var run struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			}
		}
	}
	p.mlflow("POST", "runs/create", map[string]any{"experiment_id": created.ExperimentID}, 200, &run)
	runID := run.Run.Info.RunID
	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	path := "/api/2.0/mlflow-artifacts/artifacts/" + created.ExperimentID + "/" + runID + "/artifacts/data/big%20file.bin"
	send := func(token, method string, rd io.Reader) *http.Response {
		req, _ := http.NewRequest(method, p.url+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := send(p.token, "PUT", bytes.NewReader(body))
	res.Body.Close()
	sum := sha256.Sum256(body)
	if res.StatusCode != 200 || res.Header.Get("X-Mlportal-Digest") != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("upload: %d, digest %q", res.StatusCode, res.Header.Get("X-Mlportal-Digest"))
	}
	res = send(p.token, "GET", nil)
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("download: %d, %d bytes", res.StatusCode, len(got))
	}
	var list struct {
		RootURI string `json:"root_uri"`
		Files   []struct {
			Path     string `json:"path"`
			IsDir    bool   `json:"is_dir"`
			FileSize int64  `json:"file_size"`
		}
	}
	p.mlflow("GET", "artifacts/list?run_id="+runID+"&path=data", nil, 200, &list)
	if len(list.Files) != 1 || list.Files[0].Path != "data/big file.bin" || list.Files[0].FileSize != int64(len(body)) {
		t.Errorf("list = %+v", list)
	}
	// Another team's token cannot write there.
	var other struct{ Token string }
	p.call(adminToken, "POST", "/api/v1/tokens", map[string]any{"name": "o", "team": "other", "verbs": []string{"read", "write"}}, 201, &other)
	res = send(other.Token, "PUT", strings.NewReader("x"))
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 403 || !strings.Contains(string(msg), "PERMISSION_DENIED") {
		t.Errorf("other team's upload: %d %s", res.StatusCode, msg)
	}
	// A path escaping the store is refused.
	p.call(p.token, "GET", "/api/2.0/mlflow-artifacts/artifacts?path="+created.ExperimentID+"/../..", nil, 400, nil)
}
