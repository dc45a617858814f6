package project_test

import (
	"errors"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/project"
)

// enqueued records the projects the service asked to run.
type enqueued []string

func (e *enqueued) Enqueue(id string) { *e = append(*e, id) }

func TestCreate(t *testing.T) {
	f := newFixture(t)
	var runs enqueued
	n := 0
	svc := project.NewService(f.store, teams, f.catalog, &runs, f.clock, func() string { n++; return "prj_" + string(rune('a'+n)) })
	alice := identity.Principal{Subject: "user:default/alice"}
	req := project.CreateRequest{Team: "fraud", Name: "churn", Template: "training", Description: "Predicts churn"}

	p, created, err := svc.Create(t.Context(), alice, req)
	if err != nil || !created || p.Status != project.StatusPending || len(p.Steps) != 4 || p.TemplateVersion == "" {
		t.Fatalf("Create = %+v, %v, %v", p, created, err)
	}
	again, created, err := svc.Create(t.Context(), alice, req)
	if err != nil || created || again.ID != p.ID {
		t.Fatalf("same request: id %s created %v err %v, want %s, false", again.ID, created, err, p.ID)
	}
	if len(runs) != 1 {
		t.Errorf("saga enqueued %d times, want 1", len(runs))
	}

	cpu := lifecycle.Quantity("lots")
	cases := []struct {
		name  string
		who   identity.Principal
		req   project.CreateRequest
		kind  error
		field string
	}{
		{"different request, same name", alice, project.CreateRequest{Team: "fraud", Name: "churn", Template: "realtime-serving"}, fault.ErrAlreadyExists, ""},
		{"unknown team", alice, project.CreateRequest{Team: "nobody", Name: "x1", Template: "training"}, fault.ErrNotFound, ""},
		{"viewer", identity.Principal{Subject: "user:default/vic"}, project.CreateRequest{Team: "fraud", Name: "x1", Template: "training"}, fault.ErrPermissionDenied, ""},
		{"bad name", alice, project.CreateRequest{Team: "fraud", Name: "Churn!", Template: "training"}, fault.ErrInvalid, "name"},
		{"quote in description", alice, project.CreateRequest{Team: "fraud", Name: "x1", Template: "training", Description: `say "hi"`}, fault.ErrInvalid, "description"},
		{"unknown template", alice, project.CreateRequest{Team: "fraud", Name: "x1", Template: "nope"}, fault.ErrInvalid, "template"},
		{"unknown version", alice, project.CreateRequest{Team: "fraud", Name: "x1", Template: "training", TemplateVersion: "99.0.0"}, fault.ErrInvalid, "templateVersion"},
		{"bad override", alice, project.CreateRequest{Team: "fraud", Name: "x1", Template: "training",
			Overrides: lifecycle.Overrides{Job: lifecycle.JobOverrides{Resources: lifecycle.ResourceOverrides{CPU: &cpu}}}}, fault.ErrInvalid, "overrides.job.resources.cpu"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := svc.Create(t.Context(), c.who, c.req)
			if !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			if c.field == "" {
				return
			}
			fe, _ := fault.As(err)
			for _, fl := range fe.Fields {
				if fl.Field == c.field {
					return
				}
			}
			t.Errorf("fields %+v do not name %s", fe.Fields, c.field)
		})
	}
	if len(runs) != 1 {
		t.Errorf("refused requests enqueued sagas: %v", runs)
	}
}
