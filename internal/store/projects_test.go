package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/project"
)

func newProject(id, team, name string) project.Project {
	gpu := 2
	p := project.Project{ID: id, Team: team, Name: name, Description: "predicts churn", Template: "training",
		TemplateVersion: "1.0.0", Overrides: lifecycle.Overrides{Job: lifecycle.JobOverrides{Resources: lifecycle.ResourceOverrides{GPU: &gpu}}},
		SCM: project.SCMLocal, Status: project.StatusPending, CreatedBy: "user:default/alice",
		CreatedAt: us(base), UpdatedAt: us(base), Version: 1}
	for _, n := range project.StepNames {
		p.Steps = append(p.Steps, project.Step{Name: n, Status: project.StepPending})
	}
	return p
}

func TestProjectCreateGetUpdate(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		p := newProject("prj_1", "fraud", "churn")
		if err := s.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateProject(ctx, newProject("prj_2", "fraud", "churn")); !errors.Is(err, fault.ErrAlreadyExists) {
			t.Fatalf("same team and name: %v, want ErrAlreadyExists", err)
		}
		if err := s.CreateProject(ctx, newProject("prj_3", "risk", "churn")); err != nil {
			t.Fatalf("same name in another team: %v", err)
		}
		got, err := s.GetProject(ctx, "prj_1")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(p, got); d != "" {
			t.Fatalf("GetProject (-want +got):\n%s", d)
		}
		byName, err := s.GetProjectByName(ctx, "fraud", "churn")
		if err != nil || byName.ID != "prj_1" {
			t.Fatalf("GetProjectByName = %v, %v", byName.ID, err)
		}

		next := p.Clone()
		next.Status, next.RepoURL, next.Namespace, next.EntityRef = project.StatusRunning, "http://x/git/fraud/churn.git", "fraud-churn", "system:default/churn"
		next.Steps[0] = project.Step{Name: project.StepRepository, Status: project.StepDone, Attempts: 1,
			StartedAt: base, FinishedAt: base.Add(time.Second), Detail: "first commit abc"}
		next.UpdatedAt, next.Version = us(base.Add(time.Second)), 2
		if err := s.UpdateProject(ctx, next, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateProject(ctx, next, 1); !errors.Is(err, fault.ErrPreconditionFailed) {
			t.Fatalf("stale update: %v, want ErrPreconditionFailed", err)
		}
		if err := s.UpdateProject(ctx, newProject("prj_none", "x", "y"), 1); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("missing project: %v, want ErrNotFound", err)
		}
		got, _ = s.GetProject(ctx, "prj_1")
		if d := cmp.Diff(next, got); d != "" {
			t.Fatalf("after update (-want +got):\n%s", d)
		}
		if _, err := s.GetProject(ctx, "prj_none"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("GetProject(missing): %v", err)
		}
	})
}

func TestProjectListAndUnfinished(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for i, st := range []project.Status{project.StatusPending, project.StatusRunning, project.StatusSucceeded, project.StatusFailed} {
			p := newProject("prj_"+string(rune('a'+i)), "fraud", "p"+string(rune('a'+i)))
			p.Status = st
			if err := s.CreateProject(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateProject(ctx, newProject("prj_z", "risk", "other")); err != nil {
			t.Fatal(err)
		}
		ids := func(ps []project.Project, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, p := range ps {
				out = append(out, p.ID)
			}
			return out
		}
		for _, c := range []struct {
			team, after string
			limit       int
			want        []string
		}{
			{"fraud", "", 10, []string{"prj_a", "prj_b", "prj_c", "prj_d"}},
			{"fraud", "prj_b", 1, []string{"prj_c"}},
			{"", "", 10, []string{"prj_a", "prj_b", "prj_c", "prj_d", "prj_z"}},
			{"nobody", "", 10, []string{}},
		} {
			if d := cmp.Diff(c.want, ids(s.ListProjects(ctx, c.team, c.after, c.limit))); d != "" {
				t.Errorf("ListProjects(%q, %q, %d) (-want +got):\n%s", c.team, c.after, c.limit, d)
			}
		}
		if d := cmp.Diff([]string{"prj_a", "prj_b", "prj_z"}, ids(s.ListUnfinishedProjects(ctx))); d != "" {
			t.Errorf("ListUnfinishedProjects (-want +got):\n%s", d)
		}
	})
}
