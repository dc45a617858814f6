package models

import (
	"context"
	"errors"
	"strconv"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/tracking"
)

// SetApproval approves or rejects a version for production (or sets it
// back to pending). Team maintainers and platform admins may; the decision
// is recorded in the model's history with comment as its reason.
func (s *Service) SetApproval(ctx context.Context, p identity.Principal, name string, version int64, status, comment string) (Version, error) {
	switch status {
	case ApprovalPending, ApprovalApproved, ApprovalRejected:
	default:
		return Version{}, fault.Invalid("status is not valid", fault.Field("status", "must be pending, approved or rejected (got %q)", status))
	}
	mv, err := s.Registry.GetModelVersion(ctx, name, version)
	if err != nil {
		return Version{}, err
	}
	m, err := s.Teams.Membership(ctx, mv.Team)
	if errors.Is(err, fault.ErrNotFound) {
		return Version{}, fault.Denied("model %q belongs to team %q, which no longer exists; ask a platform admin", name, mv.Team)
	}
	if err != nil {
		return Version{}, err
	}
	if !p.Can(identity.VerbManage, m) {
		return Version{}, fault.Denied("approving versions of model %q needs the maintainer role in team %q (or a token of that team with manage); ask a maintainer of %q", name, mv.Team, mv.Team)
	}
	now := s.Clock.Now().UTC()
	a := Approval{Status: status, By: p.Subject, At: now, Comment: comment}
	ev := modelregistry.Event{Model: name, Kind: modelregistry.EventApproval, Version: version, To: status, Actor: p.Actor(), Time: now.UnixMilli(), Reason: comment}
	if err := s.Approvals.SetApproval(ctx, VersionKey{name, version}, a, ev); err != nil {
		return Version{}, err
	}
	return s.GetVersion(ctx, p, name, version)
}

// History returns a page of the model's events, oldest first.
func (s *Service) History(ctx context.Context, p identity.Principal, name string, page pagination.Page) ([]Event, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	if _, err := s.Registry.GetRegisteredModel(ctx, name); err != nil {
		return nil, "", err
	}
	var after int64
	if page.After != "" {
		v, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil {
			return nil, "", fault.Invalid("pageToken is not a token this server issued", fault.Field("pageToken", "pass the nextPageToken of the previous page unchanged"))
		}
		after = v
	}
	if page.Limit <= 0 {
		page.Limit = pagination.DefaultLimit
	}
	evs, err := s.Registry.History(ctx, name, after, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	keep, next := pagination.Next(len(evs), page.Limit, func(i int) string { return strconv.FormatInt(evs[i].ID, 10) })
	out := make([]Event, keep)
	for i, e := range evs[:keep] {
		out[i] = eventOf(e)
	}
	return out, next, nil
}

// allHistory returns every event of a model, oldest first.
func (s *Service) allHistory(ctx context.Context, name string) ([]Event, error) {
	var out []Event
	var after int64
	for {
		evs, err := s.Registry.History(ctx, name, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, eventOf(e))
		}
		if len(evs) < 1000 {
			return out, nil
		}
		after = evs[len(evs)-1].ID
	}
}

// eventOf names a registry event as the API does.
func eventOf(e modelregistry.Event) Event {
	out := Event{ID: e.ID, Version: e.Version, Alias: e.Alias, From: e.From, To: e.To, Reason: e.Reason, Actor: e.Actor, At: millis(e.Time)}
	switch e.Kind {
	case modelregistry.EventStage:
		out.Kind = EventStageChanged
	case modelregistry.EventAlias:
		out.Kind = EventAliasSet
		if e.To == "" {
			out.Kind = EventAliasDeleted
		}
	default:
		out.Kind = EventKind(e.Kind)
	}
	return out
}
