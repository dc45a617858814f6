package artifact_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/artifact/artifacttest"
	"github.com/mlportal/mlportal/internal/fault"
)

func TestCleanPath(t *testing.T) {
	for _, p := range []string{"a", "a/b/c.txt", "1/3f2a/artifacts/model/MLmodel", ".hidden", "a/.b", "a..b", "...", "ü/日本", strings.Repeat("x", 255)} {
		if got, err := artifact.CleanPath(p); err != nil || got != p {
			t.Errorf("CleanPath(%q) = %q, %v; want it unchanged", p, got, err)
		}
	}
	for _, p := range artifacttest.BadPaths {
		_, err := artifact.CleanPath(p)
		fe, ok := fault.As(err)
		if !ok || !errors.Is(err, fault.ErrInvalid) || len(fe.Fields) != 1 || fe.Fields[0].Field != "path" {
			t.Errorf("CleanPath(%q) = %v; want fault.ErrInvalid naming field path", p, err)
		}
	}
	if d, err := artifact.CleanDir(""); err != nil || d != "" {
		t.Errorf(`CleanDir("") = %q, %v; want the root`, d, err)
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, p := range append([]string{"a/b", "x.txt"}, artifacttest.BadPaths...) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := artifact.CleanPath(p)
		if err != nil {
			return
		}
		if got != p || p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
			t.Fatalf("CleanPath accepted %q", p)
		}
		for e := range strings.SplitSeq(p, "/") {
			if e == "" || e == "." || e == ".." || strings.HasPrefix(e, artifact.ReservedPrefix) {
				t.Fatalf("CleanPath accepted %q with element %q", p, e)
			}
		}
	})
}

func TestDigestWriterAndReader(t *testing.T) {
	const empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if d := artifact.NewDigestWriter(nil); d.Digest() != empty || d.Size() != 0 {
		t.Errorf("empty digest = %s", d.Digest())
	}
	const abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	var sb strings.Builder
	w := artifact.NewDigestWriter(&sb)
	io.WriteString(w, "ab")
	io.WriteString(w, "c")
	if w.Digest() != abc || w.Size() != 3 || sb.String() != "abc" {
		t.Errorf("writer: %s %d %q", w.Digest(), w.Size(), sb.String())
	}
	r := artifact.NewDigestReader(strings.NewReader("abc"))
	if b, _ := io.ReadAll(r); string(b) != "abc" || r.Digest() != abc || r.Size() != 3 {
		t.Errorf("reader: %s %d", r.Digest(), r.Size())
	}
	if !artifact.ValidDigest(abc) || artifact.ValidDigest("sha256:ABC") || artifact.ValidDigest(abc[7:]) {
		t.Error("ValidDigest")
	}
}

func TestVerifyingReader(t *testing.T) {
	const abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	ok := artifact.NewVerifyingReader(io.NopCloser(strings.NewReader("abc")), "a/b", abc, 3)
	if b, err := io.ReadAll(ok); err != nil || string(b) != "abc" {
		t.Errorf("matching content: %q, %v", b, err)
	}
	for _, content := range []string{"abd", "ab", "abcd"} {
		v := artifact.NewVerifyingReader(io.NopCloser(strings.NewReader(content)), "a/b", abc, 3)
		_, err := io.ReadAll(v)
		if !errors.Is(err, fault.ErrUnavailable) {
			t.Fatalf("content %q: %v, want unavailable", content, err)
		}
		got := artifact.NewDigestWriter(nil)
		io.WriteString(got, content)
		for _, want := range []string{`"a/b"`, abc, got.Digest(), "corrupt", "re-upload"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("content %q: error %q lacks %q", content, err, want)
			}
		}
		if _, err2 := v.Read(make([]byte, 1)); err2 != err {
			t.Errorf("error is not sticky: %v then %v", err, err2)
		}
	}
}
