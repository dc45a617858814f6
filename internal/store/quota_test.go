package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/quota"
	"github.com/mlportal/mlportal/internal/team"
)

func TestQuotaRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, name := range []string{"vision", "fraud"} {
			if err := s.CreateTeam(ctx, team.Team{Name: name, CreatedAt: us(base), UpdatedAt: us(base), Version: 1}); err != nil {
				t.Fatal(err)
			}
		}
		eight := 8
		mk := func(id, tm string) quota.Request {
			return quota.Request{ID: id, Team: tm, Status: quota.StatusPending, RequestedBy: "user:default/alice", RequestedAt: us(base),
				UpdatedAt: us(base), Version: 1, Spec: quota.Spec{GPUType: "a100", GPUs: 16, Project: "churn", ProjectGPUs: &eight,
					Justification: "the churn model's retraining needs it", Duration: 720 * time.Hour}}
		}
		r1, r2, r3 := mk("qr_1", "vision"), mk("qr_2", "vision"), mk("qr_3", "fraud")
		r2.BorrowingLimit, r2.ProjectGPUs, r2.Project, r2.Duration = &eight, nil, "", 0
		for _, r := range []quota.Request{r1, r2, r3} {
			if err := s.CreateQuotaRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateQuotaRequest(ctx, r1); !errors.Is(err, fault.ErrAlreadyExists) {
			t.Fatalf("same id: %v", err)
		}
		got, err := s.GetQuotaRequest(ctx, "qr_2")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r2, got); diff != "" {
			t.Fatalf("GetQuotaRequest (-want +got):\n%s", diff)
		}
		if _, err := s.GetQuotaRequest(ctx, "qr_9"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}

		// Approved with a grant that ends in a day, not applied yet.
		next := r1.Clone()
		next.Status, next.DecidedBy, next.DecidedAt, next.Comment = quota.StatusApproved, "user:default/pat", us(base), "ok"
		next.ExpiresAt, next.ApplyError, next.Attempts = us(base.Add(24*time.Hour)), "the cluster does not answer", 1
		next.Change = &quota.Change{HadEntry: true, NominalBefore: 8, NominalAfter: 16, ProjectGPUsBefore: 4, ProjectGPUsAfter: 8}
		next.UpdatedAt, next.Version = us(base.Add(time.Second)), 2
		if err := s.UpdateQuotaRequest(ctx, next, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateQuotaRequest(ctx, next, 1); !errors.Is(err, fault.ErrPreconditionFailed) {
			t.Fatalf("stale: %v", err)
		}
		if got, _ = s.GetQuotaRequest(ctx, "qr_1"); !cmp.Equal(next, got) {
			t.Fatalf("after update (-want +got):\n%s", cmp.Diff(next, got))
		}

		ids := func(rs []quota.Request, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out
		}
		if got := ids(s.ListQuotaRequests(ctx, "vision", "", "", 10)); !cmp.Equal(got, []string{"qr_1", "qr_2"}) {
			t.Errorf("list vision: %v", got)
		}
		if got := ids(s.ListQuotaRequests(ctx, "vision", quota.StatusPending, "", 10)); !cmp.Equal(got, []string{"qr_2"}) {
			t.Errorf("list pending: %v", got)
		}
		if got := ids(s.ListQuotaRequests(ctx, "vision", "", "qr_1", 1)); !cmp.Equal(got, []string{"qr_2"}) {
			t.Errorf("second page: %v", got)
		}
		// Not applied: to reconcile now. Applied: only once its grant ends.
		if got := ids(s.ListQuotaRequestsToReconcile(ctx, base)); !cmp.Equal(got, []string{"qr_1"}) {
			t.Errorf("to reconcile (not applied): %v", got)
		}
		applied := next.Clone()
		applied.Applied, applied.AppliedAt, applied.ApplyError, applied.Version = true, us(base), "", 3
		if err := s.UpdateQuotaRequest(ctx, applied, 2); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.ListQuotaRequestsToReconcile(ctx, base.Add(time.Hour))); len(got) != 0 {
			t.Errorf("to reconcile before the end: %v", got)
		}
		if got := ids(s.ListQuotaRequestsToReconcile(ctx, base.Add(24*time.Hour))); !cmp.Equal(got, []string{"qr_1"}) {
			t.Errorf("to reconcile at the end: %v", got)
		}
		if err := s.DeleteTeam(ctx, "fraud", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetQuotaRequest(ctx, "qr_3"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("a deleted team's request remains: %v", err)
		}
	})
}
