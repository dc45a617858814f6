package quota

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/team"
)

// maxRaces bounds how often a step re-reads a record that another writer
// changed between its read and its write.
const maxRaces = 10

// apply makes r's decision take effect — the grant while approved, its
// reversal once expired — in steps that are each a no-op when already done,
// so that running it again (a retry, another replica) is safe:
//
//  1. the team's quota entry for the request's GPU type (optimistic
//     version; re-read on a race);
//  2. the project's quota record, when the request names a project;
//  3. the project's namespace ResourceQuota (server-side apply; on a
//     cluster, once the project has a namespace).
//
// It then records the request applied. A failure is recorded on the
// request (ApplyError) for Reconcile to retry; it is never returned: the
// decision stands either way.
func (s *Service) apply(ctx context.Context, r Request) Request {
	err := s.applySteps(ctx, r)
	if err != nil {
		s.cfg.Log.Warn("apply quota request", "request", r.ID, "team", r.Team, "status", r.Status, "err", err)
	}
	for range maxRaces {
		next := r.Clone()
		next.Attempts++
		if err != nil {
			next.ApplyError = errorText(err)
		} else {
			next.Applied, next.AppliedAt, next.ApplyError = true, s.cfg.Clock.Now().UTC(), ""
		}
		ok, serr := s.save(ctx, r, &next)
		if serr != nil {
			s.cfg.Log.Warn("record quota request", "request", r.ID, "err", serr)
			return r
		}
		if ok {
			if err == nil {
				s.cfg.Log.Info("quota request applied", "request", r.ID, "team", r.Team, "status", r.Status, "project", r.Project)
			}
			return next
		}
		cur, gerr := s.cfg.Repo.GetQuotaRequest(ctx, r.ID)
		if gerr != nil || cur.Status != r.Status || cur.Applied {
			return cur // someone else moved it on
		}
		r = cur
	}
	return r
}

func errorText(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Message
	}
	return "an internal error (the server log has the cause); mlportal retries it"
}

func (s *Service) applySteps(ctx context.Context, r Request) error {
	if r.Change == nil {
		return fmt.Errorf("quota request %s is %s but records no change", r.ID, r.Status)
	}
	grant := r.Status == StatusApproved
	if err := s.applyTeam(ctx, r, grant); err != nil {
		return err
	}
	if r.Project == "" {
		return nil
	}
	return s.applyProject(ctx, r, grant)
}

func (s *Service) applyTeam(ctx context.Context, r Request, grant bool) error {
	c := *r.Change
	for range maxRaces {
		t, err := s.cfg.Teams.GetTeam(ctx, r.Team)
		if err != nil {
			return err
		}
		var want []team.GPUQuota
		switch {
		case grant:
			want = c.Granted(t.GPUQuota, r.GPUType)
		case !c.IsGranted(t.GPUQuota, r.GPUType):
			return nil // reverted already, or changed by someone else since: theirs stands
		default:
			want = c.Reverted(t.GPUQuota, r.GPUType)
		}
		if sameQuota(want, t.GPUQuota) {
			return nil
		}
		next := t
		next.GPUQuota, next.UpdatedAt, next.Version = want, s.cfg.Clock.Now().UTC(), t.Version+1
		_, err = s.cfg.Teams.UpdateTeam(ctx, next, t.Version)
		if !errors.Is(err, fault.ErrPreconditionFailed) {
			return err
		}
	}
	return fault.New(fault.ErrConflict, "team %s kept changing while its quota was applied; mlportal retries", r.Team)
}

func (s *Service) applyProject(ctx context.Context, r Request, grant bool) error {
	c := *r.Change
	for range maxRaces {
		prj, err := s.cfg.Projects.GetProjectByName(ctx, r.Team, r.Project)
		if errors.Is(err, fault.ErrNotFound) {
			s.cfg.Log.Info("quota request's project is gone; nothing to apply to it", "request", r.ID, "project", r.Project)
			return nil
		}
		if err != nil {
			return err
		}
		want := c.ProjectGPUsAfter
		if !grant {
			want = prj.Quota.GPUs // changed by someone else since: theirs stands
			if prj.Quota.GPUs == c.ProjectGPUsAfter {
				want = c.ProjectGPUsBefore
			}
		}
		if prj.Quota.GPUs != want {
			next := prj.Clone()
			next.Quota.GPUs, next.UpdatedAt, next.Version = want, s.cfg.Clock.Now().UTC(), prj.Version+1
			err := s.cfg.Projects.UpdateProject(ctx, next, prj.Version)
			if errors.Is(err, fault.ErrPreconditionFailed) {
				continue
			}
			if err != nil {
				return err
			}
			prj = next
		}
		if s.cfg.Namespaces == nil || prj.Namespace == "" {
			return nil // local mode, or the namespace step has not run yet and will apply the record
		}
		if err := s.cfg.Namespaces.Apply(ctx, r.Team, prj.Name, prj.Quota); err != nil {
			return fmt.Errorf("apply the quota of namespace %s: %w", prj.Namespace, err)
		}
		return nil
	}
	return fault.New(fault.ErrConflict, "project %s kept changing while its quota was applied; mlportal retries", r.Project)
}

// Reconcile ends the temporary grants due by now (their change is
// reverted) and retries applying every decision not applied yet. It
// returns how many requests it touched.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	now := s.cfg.Clock.Now().UTC()
	rs, err := s.cfg.Repo.ListQuotaRequestsToReconcile(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if r.Status == StatusApproved && !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) {
			next := r.Clone()
			next.Status, next.Applied, next.AppliedAt, next.ApplyError = StatusExpired, false, time.Time{}, ""
			ok, err := s.save(ctx, r, &next)
			if err != nil || !ok {
				continue // next round
			}
			s.cfg.Log.Info("temporary quota grant ended", "request", r.ID, "team", r.Team, "expiresAt", r.ExpiresAt)
			r = next
		}
		if !r.Applied {
			s.apply(ctx, r)
		}
		n++
	}
	return n, nil
}

// Run reconciles every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval) // cadence only; decisions use the injected clock
	defer t.Stop()
	for {
		if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("reconcile quota requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
