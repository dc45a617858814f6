package kube

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestLineWriter(t *testing.T) {
	var b strings.Builder
	w := &lineWriter{w: &b}
	if err := w.copy(context.Background(), strings.NewReader("epoch 1\nepoch 2\nno newline"), "[1] "); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "[1] epoch 1\n[1] epoch 2\n[1] no newline\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	broken := &lineWriter{w: failingWriter{}}
	if err := broken.copy(context.Background(), strings.NewReader("a\nb\n"), ""); err != nil || broken.err == nil {
		t.Errorf("copy to a broken writer: %v, remembered %v", err, broken.err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestLogsOfAGang runs Logs over client-go's fake clientset: pod logs come
// from a node's kubelet, which cannot run here (the kwok nodes of the
// integration tests have none), and the fake answers every log request with
// "fake logs". What is tested is which pods are read and how lines are
// prefixed; the integration tests cover the error from a real apiserver.
func TestLogsOfAGang(t *testing.T) {
	running := func(i int) *corev1.Pod {
		p := pod(i, corev1.PodRunning).p
		p.Namespace = "t-p"
		p.Annotations[AnnotationReplicas] = "3"
		p.Status.ContainerStatuses[0].State.Running = &corev1.ContainerStateRunning{}
		return &p
	}
	// Replica 2 never started: the job was stopped first.
	cs := fake.NewClientset(running(0), running(1))
	e := New(cs, Config{PollInterval: 10 * time.Millisecond}, slog.New(slog.DiscardHandler))
	defer e.Close()
	e.stops["j"] = stopRecord{attempt: 1, reason: "cancel", at: t0.Format(time.RFC3339)}

	for _, follow := range []bool{false, true} {
		var b strings.Builder
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := e.Logs(ctx, "j", follow, &b)
		cancel()
		if err != nil {
			t.Fatalf("Logs(follow=%v): %v", follow, err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		slices.Sort(lines)
		if want := []string{"[0] fake logs", "[1] fake logs"}; !slices.Equal(lines, want) {
			t.Errorf("Logs(follow=%v) = %q, want %q", follow, lines, want)
		}
	}
	if err := e.Logs(context.Background(), "unknown", false, io.Discard); err == nil {
		t.Error("Logs of an unknown job: nil error")
	}
}
