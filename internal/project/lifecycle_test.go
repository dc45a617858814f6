package project_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/project"
)

var alice = identity.Principal{Subject: "user:default/alice"}

// While one runner holds a project's lease another does not touch it;
// once the lease expires without renewal (the holder died), the other
// takes the saga over and finishes it.
func TestLeaseKeepsOneRunnerPerProject(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	now := f.clock.Now()
	if ok, err := f.store.LeaseProject(t.Context(), p.ID, "replica-a", now, now.Add(project.DefaultLeaseTTL)); err != nil || !ok {
		t.Fatalf("replica-a lease = %v, %v", ok, err)
	}
	b := f.runnerOwned("replica-b", nil)
	if err := b.Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.GetProject(t.Context(), p.ID); got.Status != project.StatusPending || f.repos.created["fraud/churn"] != 0 {
		t.Fatalf("replica-b ran a saga replica-a holds: %s, %d repositories", got.Status, f.repos.created["fraud/churn"])
	}

	f.clock.Advance(project.DefaultLeaseTTL + time.Second) // replica-a stopped renewing
	if err := b.Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.GetProject(t.Context(), p.ID); got.Status != project.StatusSucceeded {
		t.Fatalf("after the lease expired: %s %v", got.Status, statuses(got))
	}
	// Run releases its lease: replica-a may run it again at once.
	if ok, _ := f.store.LeaseProject(t.Context(), p.ID, "replica-a", f.clock.Now(), f.clock.Now().Add(time.Minute)); !ok {
		t.Error("replica-b kept its lease after the run")
	}
}

// Deleting undoes the steps last first — namespace, then repository — and
// removes the record, which frees the name.
func TestDeleteUndoesTheSaga(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	var nsDeleted []string
	ns := deletingNamespaces{deleted: &nsDeleted}
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, nil)
	if _, err := svc.Delete(t.Context(), identity.Principal{Subject: "user:default/vic"}, p.ID); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Fatalf("viewer delete: %v", err)
	}
	del, err := svc.Delete(t.Context(), alice, p.ID)
	if err != nil || del.Status != project.StatusDeleting {
		t.Fatalf("Delete = %s, %v", del.Status, err)
	}
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetProject(t.Context(), p.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("the record outlived the deletion: %v", err)
	}
	if f.repos.deleted["fraud/churn"] != 1 || len(nsDeleted) != 1 || nsDeleted[0] != "fraud/churn" {
		t.Errorf("deleted repositories %v, namespaces %v", f.repos.deleted, nsDeleted)
	}
	// The name is free again.
	f.create(t, "churn")
}

// A repository that cannot be deleted stops the deletion with the project
// failed and a message; deleting again continues where it stopped.
func TestDeleteFailureThenContinue(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	var nsDeleted []string
	ns := deletingNamespaces{deleted: &nsDeleted}
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, nil)
	if _, err := svc.Delete(t.Context(), alice, p.ID); err != nil {
		t.Fatal(err)
	}
	f.repos.deleteErr = fault.New(fault.ErrUnavailable, "GitHub is unreachable")
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetProject(t.Context(), p.ID)
	st := got.Step(project.StepRepository)
	if got.Status != project.StatusFailed || st.Status != project.StepFailed || !contains(st.Error, "GitHub is unreachable") ||
		!contains(st.Error, "mlportal project delete "+p.ID) {
		t.Fatalf("failed deletion: %s %+v", got.Status, st)
	}
	if s := got.Step(project.StepNamespace).Status; s != project.StepUndone {
		t.Errorf("namespace step %s, want undone", s)
	}
	f.repos.deleteErr = nil
	if _, err := svc.Delete(t.Context(), alice, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetProject(t.Context(), p.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("not deleted: %v", err)
	}
	if len(nsDeleted) != 1 {
		t.Errorf("namespace deleted %d times, want once", len(nsDeleted))
	}
}

// A project still being created cannot be deleted yet.
func TestDeleteWhileCreating(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, nil)
	if _, err := svc.Delete(t.Context(), alice, p.ID); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("Delete of a pending project = %v, want a conflict", err)
	}
}

// An unknown or unconfigured repository host is a 422 on scm.
func TestCreateUnknownSCM(t *testing.T) {
	f := newFixture(t)
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, nil)
	_, _, err := svc.Create(t.Context(), alice, project.CreateRequest{Team: "fraud", Name: "churn", Template: "training", SCM: "github"})
	fe, ok := fault.As(err)
	if !ok || !errors.Is(err, fault.ErrInvalid) || len(fe.Fields) != 1 || fe.Fields[0].Field != "scm" {
		t.Fatalf("Create with scm github = %v", err)
	}
}

// deletingNamespaces succeeds and records deletions.
type deletingNamespaces struct{ deleted *[]string }

func (n deletingNamespaces) Ensure(_ context.Context, team, name string, _ project.Quota) (string, error) {
	return team + "-" + name, nil
}

func (n deletingNamespaces) Delete(_ context.Context, team, name string) error {
	*n.deleted = append(*n.deleted, team+"/"+name)
	return nil
}
