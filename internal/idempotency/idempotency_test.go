package idempotency_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/idempotency"
	"github.com/mlportal/mlportal/internal/store"
)

func TestRules(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	svc := idempotency.NewService(st, clk)
	key := idempotency.Key("user:default/a", "POST", "/api/v1/teams", "k")
	if key == idempotency.Key("user:default/b", "POST", "/api/v1/teams", "k") {
		t.Fatal("two callers' keys collide")
	}
	body := idempotency.HashBody([]byte(`{"name":"a"}`))

	if r, err := svc.Begin(ctx, key, body); r != nil || err != nil {
		t.Fatalf("first Begin = %v %v", r, err)
	}
	if _, err := svc.Begin(ctx, key, body); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("retry while running: %v", err)
	}
	if err := svc.Finish(ctx, key, idempotency.Response{Status: 201, Body: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Begin(ctx, key, body); err != nil || r == nil || r.Status != 201 || string(r.Body) != "ok" {
		t.Fatalf("replay = %+v %v", r, err)
	}
	if _, err := svc.Begin(ctx, key, idempotency.HashBody([]byte("other"))); !errors.Is(err, fault.ErrIdempotencyKeyReused) {
		t.Fatalf("reuse with another body: %v", err)
	}
	clk.Advance(idempotency.Retention + time.Minute)
	if r, err := svc.Begin(ctx, key, idempotency.HashBody([]byte("other"))); r != nil || err != nil {
		t.Fatalf("after retention the key is new again: %v %v", r, err)
	}
	// A server error is not kept: the retry runs again.
	if err := svc.Finish(ctx, key, idempotency.Response{Status: 503}); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Begin(ctx, key, body); r != nil || err != nil {
		t.Fatalf("after a 5xx: %v %v", r, err)
	}
}
