package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/team"
)

// newTeam returns a team at version with two members and two GPU quotas.
func newTeam(name string, version int64) team.Team {
	return team.Team{
		Name:           name,
		DisplayName:    "Team " + name,
		Description:    "trains models",
		BackstageGroup: "group:default/" + name,
		CostCenter:     "cc-42",
		Members: []identity.Member{
			{Subject: "user:default/alice", Role: identity.RoleMaintainer},
			{Subject: "group:default/" + name + "-devs", Role: identity.RoleDeveloper},
		},
		GPUQuota: []team.GPUQuota{
			{GPUType: "nvidia-h100", Nominal: 8, BorrowingLimit: 4},
			{GPUType: "nvidia-a100", Nominal: 16, BorrowingLimit: 0},
		},
		FairShareWeight: 2.5,
		CreatedAt:       base,
		UpdatedAt:       base,
		CreatedBy:       "user:default/alice",
		Version:         version,
	}
}

// stored is t as the store returns it.
func stored(t team.Team) team.Team {
	t.CreatedAt, t.UpdatedAt = us(t.CreatedAt), us(t.UpdatedAt)
	return t
}

// updated returns t changed at version v: new fields, and members and quotas
// replaced by fewer ones.
func updated(t team.Team, v int64) team.Team {
	t.DisplayName, t.Description, t.CostCenter = "Renamed", "", "cc-7"
	t.Members = []identity.Member{{Subject: "user:default/bob", Role: identity.RoleViewer}}
	t.GPUQuota = []team.GPUQuota{{GPUType: "amd-mi300x", Nominal: 2, BorrowingLimit: 1}}
	t.FairShareWeight = 0.25
	t.UpdatedAt = t.UpdatedAt.Add(90 * time.Second)
	t.Version = v
	return t
}

var equateEmpty = cmpopts.EquateEmpty()

func TestTeamCreateGet(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		want := newTeam("ml-research", 1)
		if err := s.CreateTeam(ctx, want); err != nil {
			t.Fatalf("CreateTeam: %v", err)
		}
		got, err := s.GetTeam(ctx, want.Name)
		if err != nil {
			t.Fatalf("GetTeam: %v", err)
		}
		if diff := cmp.Diff(stored(want), got); diff != "" {
			t.Errorf("GetTeam (-want +got):\n%s", diff)
		}

		bare := team.Team{Name: "bare", DisplayName: "Bare", CreatedAt: base, UpdatedAt: base, Version: 1}
		if err := s.CreateTeam(ctx, bare); err != nil {
			t.Fatalf("CreateTeam(no children): %v", err)
		}
		got, err = s.GetTeam(ctx, bare.Name)
		if err != nil {
			t.Fatalf("GetTeam: %v", err)
		}
		if got.Members == nil || got.GPUQuota == nil {
			t.Errorf("GetTeam(no children) = %+v, want empty, non-nil members and quotas", got)
		}
		if got.FairShareWeight != team.DefaultWeight {
			t.Errorf("a team created without a weight has weight %g, want %g", got.FairShareWeight, team.DefaultWeight)
		}

		dup := newTeam("ml-research", 1)
		dup.Members = nil
		wantKind(t, s.CreateTeam(ctx, dup), fault.ErrAlreadyExists)
		if got, _ := s.GetTeam(ctx, want.Name); !cmp.Equal(stored(want), got) {
			t.Errorf("a refused duplicate changed the team: %+v", got)
		}

		_, err = s.GetTeam(ctx, "missing")
		wantKind(t, err, fault.ErrNotFound)
	})
}

func TestListTeamsPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var want []team.Team
		for i := range 120 {
			tm := newTeam(fmt.Sprintf("team-%03d", i), int64(i+1))
			tm.Members = tm.Members[:i%3]
			tm.GPUQuota = tm.GPUQuota[:i%2]
			want = append(want, stored(tm))
		}
		for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(want)) {
			if err := s.CreateTeam(ctx, want[i]); err != nil {
				t.Fatalf("CreateTeam(%s): %v", want[i].Name, err)
			}
		}

		var got []team.Team
		after := ""
		for pages := 0; ; pages++ {
			page, err := s.ListTeams(ctx, after, 50)
			if err != nil {
				t.Fatalf("ListTeams(after %q): %v", after, err)
			}
			if len(page) > 50 || pages > 3 {
				t.Fatalf("ListTeams(after %q) returned %d teams on page %d", after, len(page), pages)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Name
		}
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("ListTeams pages (-want +got):\n%s", diff)
		}

		page, err := s.ListTeams(ctx, "team-099", 3)
		if err != nil {
			t.Fatalf("ListTeams: %v", err)
		}
		if diff := cmp.Diff(want[100:103], page, equateEmpty); diff != "" {
			t.Errorf("ListTeams(after team-099, 3) (-want +got):\n%s", diff)
		}
	})
}

func TestUpdateTeam(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		orig := newTeam("vision", 3)
		if err := s.CreateTeam(ctx, orig); err != nil {
			t.Fatalf("CreateTeam: %v", err)
		}

		next := updated(orig, 4)
		next.CreatedAt, next.CreatedBy = base.Add(time.Second), "user:default/mallory" // not updatable
		if _, err := s.UpdateTeam(ctx, next, 3); err != nil {
			t.Fatalf("UpdateTeam(version 3): %v", err)
		}
		want := updated(orig, 4)
		got, err := s.GetTeam(ctx, "vision")
		if err != nil {
			t.Fatalf("GetTeam: %v", err)
		}
		if diff := cmp.Diff(stored(want), got); diff != "" {
			t.Errorf("after UpdateTeam (-want +got):\n%s", diff)
		}

		_, err = s.UpdateTeam(ctx, updated(orig, 5), 3)
		wantKind(t, err, fault.ErrPreconditionFailed)
		if got, _ := s.GetTeam(ctx, "vision"); got.Version != 4 {
			t.Errorf("a stale update changed the version to %d", got.Version)
		}

		_, err = s.UpdateTeam(ctx, updated(newTeam("missing", 1), 2), 1)
		wantKind(t, err, fault.ErrNotFound)
	})
}

// Teams recorded before migration 0010 (rows without the weight column) and
// teams written without a weight read back with the default weight; any
// weight in the valid range round-trips exactly on both drivers.
func TestTeamFairShareWeight(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO teams (name, display_name, description, backstage_group, cost_center, created_at, updated_at, created_by, version)
			VALUES ('old', 'Old', '', '', '', 0, 0, '', 1)`)); err != nil {
			t.Fatalf("insert a v9 team: %v", err)
		}
		got, err := s.GetTeam(ctx, "old")
		if err != nil {
			t.Fatalf("GetTeam: %v", err)
		}
		if got.FairShareWeight != team.DefaultWeight {
			t.Errorf("a team from before the weight column has weight %g, want %g", got.FairShareWeight, team.DefaultWeight)
		}
		got.FairShareWeight, got.Version = 0, 2
		if got, err = s.UpdateTeam(ctx, got, 1); err != nil || got.FairShareWeight != team.DefaultWeight {
			t.Fatalf("UpdateTeam without a weight = %g, %v; want %g", got.FairShareWeight, err, team.DefaultWeight)
		}

		for i, w := range []float64{team.MinWeight, 0.3, 1, 3, 1.0 / 3, 99.99, team.MaxWeight} {
			tm := newTeam(fmt.Sprintf("w-%d", i), 1)
			tm.FairShareWeight = w
			if err := s.CreateTeam(ctx, tm); err != nil {
				t.Fatalf("CreateTeam(weight %g): %v", w, err)
			}
			up := updated(tm, 2)
			up.FairShareWeight = team.MaxWeight + team.MinWeight - w
			if _, err := s.UpdateTeam(ctx, up, 1); err != nil {
				t.Fatalf("UpdateTeam(weight %g): %v", up.FairShareWeight, err)
			}
			all, err := s.AllTeams(ctx)
			if err != nil {
				t.Fatalf("AllTeams: %v", err)
			}
			for _, a := range all {
				if a.Name == up.Name && a.FairShareWeight != up.FairShareWeight {
					t.Errorf("weight %g read back as %g", up.FairShareWeight, a.FairShareWeight)
				}
			}
		}
	})
}

func TestDeleteTeam(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, name := range []string{"pinned", "any"} {
			if err := s.CreateTeam(ctx, newTeam(name, 2)); err != nil {
				t.Fatalf("CreateTeam: %v", err)
			}
		}

		wantKind(t, s.DeleteTeam(ctx, "pinned", 1), fault.ErrPreconditionFailed)
		if _, err := s.GetTeam(ctx, "pinned"); err != nil {
			t.Fatalf("a stale delete removed the team: %v", err)
		}

		for name, version := range map[string]int64{"pinned": 2, "any": 0} {
			if err := s.DeleteTeam(ctx, name, version); err != nil {
				t.Fatalf("DeleteTeam(%s, %d): %v", name, version, err)
			}
			_, err := s.GetTeam(ctx, name)
			wantKind(t, err, fault.ErrNotFound)
			wantKind(t, s.DeleteTeam(ctx, name, 0), fault.ErrNotFound)
		}
		for _, table := range []string{"team_members", "team_gpu_quotas"} {
			if n := count(t, s, `SELECT COUNT(*) FROM `+table); n != 0 {
				t.Errorf("%s has %d rows of deleted teams, want 0 (cascade)", table, n)
			}
		}

		// A new team of the same name starts empty.
		bare := team.Team{Name: "pinned", DisplayName: "Pinned", CreatedAt: base, UpdatedAt: base, Version: 1}
		if err := s.CreateTeam(ctx, bare); err != nil {
			t.Fatalf("CreateTeam after delete: %v", err)
		}
		if got, _ := s.GetTeam(ctx, "pinned"); len(got.Members)+len(got.GPUQuota) != 0 {
			t.Errorf("recreated team inherited children: %+v", got)
		}
	})
}

func TestUpdateTeamOptimisticConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		orig := newTeam("contended", 1)
		if err := s.CreateTeam(ctx, orig); err != nil {
			t.Fatalf("CreateTeam: %v", err)
		}
		errs := make([]error, 8)
		concurrently(len(errs), func(i int) {
			next := updated(orig, 2)
			next.DisplayName = fmt.Sprintf("writer %d", i)
			_, errs[i] = s.UpdateTeam(ctx, next, 1)
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("writers %d and %d both updated version 1", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, fault.ErrPreconditionFailed):
				t.Errorf("writer %d: %v, want nil or ErrPreconditionFailed", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no writer succeeded")
		}
		got, err := s.GetTeam(ctx, "contended")
		if err != nil {
			t.Fatalf("GetTeam: %v", err)
		}
		if want := fmt.Sprintf("writer %d", winner); got.DisplayName != want || got.Version != 2 || len(got.Members) != 1 {
			t.Errorf("GetTeam = %+v, want the winner's (%s) version 2 with one member", got, want)
		}
	})
}

// A failing child insert rolls back the team row and the other children:
// hiding team_gpu_quotas makes the last statement of the change fail.
func TestTeamChangesAreAtomic(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.CreateTeam(ctx, newTeam("existing", 1)); err != nil {
			t.Fatalf("CreateTeam: %v", err)
		}
		rename := func(from, to string) {
			t.Helper()
			if _, err := s.db.ExecContext(ctx, `ALTER TABLE `+from+` RENAME TO `+to); err != nil {
				t.Fatalf("rename %s: %v", from, err)
			}
		}
		rename("team_gpu_quotas", "team_gpu_quotas_hidden")
		createErr := s.CreateTeam(ctx, newTeam("half", 1))
		_, updateErr := s.UpdateTeam(ctx, updated(newTeam("existing", 1), 2), 1)
		rename("team_gpu_quotas_hidden", "team_gpu_quotas")

		if createErr == nil || updateErr == nil {
			t.Fatalf("CreateTeam = %v, UpdateTeam = %v; want both to fail without the quota table", createErr, updateErr)
		}
		_, err := s.GetTeam(ctx, "half")
		wantKind(t, err, fault.ErrNotFound)
		if n := count(t, s, `SELECT COUNT(*) FROM team_members WHERE team = ?`, "half"); n != 0 {
			t.Errorf("failed CreateTeam left %d members", n)
		}
		got, err := s.GetTeam(ctx, "existing")
		if err != nil {
			t.Fatalf("GetTeam: %v", err)
		}
		if diff := cmp.Diff(stored(newTeam("existing", 1)), got); diff != "" {
			t.Errorf("failed UpdateTeam changed the team (-want +got):\n%s", diff)
		}
	})
}
