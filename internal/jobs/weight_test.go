package jobs_test

import (
	"fmt"
	"testing"

	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/team"
)

// Two teams without nominal quota borrow the 16 idle GPUs of the cluster;
// with fair-share weights 3 and 1, as stored on the teams, the controller
// gives them 12 and 4.
func TestFairShareWeightsSplitBorrowedGPUs(t *testing.T) {
	f := newFixture(t, node("n1", 8), node("n2", 8))
	ctx := t.Context()
	weights := map[string]float64{"nlp": 3, "rl": 1}
	for name, w := range weights {
		tm := team.Team{Name: name, Members: []identity.Member{{Subject: alice.Subject, Role: identity.RoleDeveloper}},
			GPUQuota:        []team.GPUQuota{{GPUType: "a100", Nominal: 0, BorrowingLimit: 16}},
			FairShareWeight: w, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(), Version: 1}
		if err := f.store.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		if err := f.store.CreateProject(ctx, project.Project{ID: "prj_" + name, Team: name, Name: "model", Template: "training",
			TemplateVersion: "1.0.0", SCM: project.SCMLocal, Status: project.StatusSucceeded, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(), Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for i := range 16 {
		for _, name := range []string{"nlp", "rl"} {
			j, err := f.svc.Submit(ctx, alice, jobs.SubmitRequest{Team: name, Project: "model", GPUs: intp(1), Name: fmt.Sprintf("%s-%d", name, i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
	}
	f.cycle(t)
	f.cycle(t)
	held := map[string]int{}
	for _, id := range ids {
		if j := f.job(t, id); j.State.Holds() {
			held[j.Team] += j.GPUs
		}
	}
	if held["nlp"] != 12 || held["rl"] != 4 {
		t.Errorf("GPUs held by weight-3 nlp and weight-1 rl: %v, want 12 and 4", held)
	}
}
