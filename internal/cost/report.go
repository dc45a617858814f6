package cost

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
)

// GroupBy is what a report's lines are per.
type GroupBy string

// Groupings.
const (
	ByTeam    GroupBy = "team"
	ByProject GroupBy = "project" // per team and project
	ByMonth   GroupBy = "month"   // YYYY-MM, UTC
	ByGPUType GroupBy = "gpuType"
)

// Groupings lists every grouping.
var Groupings = []GroupBy{ByTeam, ByProject, ByMonth, ByGPUType}

// MonthLayout formats months.
const MonthLayout = "2006-01"

// Query selects the jobs a report sums.
type Query struct {
	// Team and Project narrow the report; Project needs Team.
	Team, Project string
	// From and To bound when jobs were charged: From ≤ t < To; zero = open.
	From, To time.Time
	GroupBy  GroupBy // "" = ByTeam
}

// Key names a line; only the fields of the grouping are set (Team with
// Project for ByProject).
type Key struct {
	Team, Project, Month, GPUType string
}

// Line sums the jobs of one key.
type Line struct {
	Key        Key
	Jobs       int
	GPUSeconds float64
	Cost       float64
}

// GPUHours is GPUSeconds in hours.
func (l Line) GPUHours() float64 { return l.GPUSeconds / 3600 }

// Report is a roll-up as of AsOf.
type Report struct {
	Query
	Currency string
	Lines    []Line
	Total    Line
	AsOf     time.Time
}

// LedgerFilter selects jobs to sum: those that ended in [From, To) (zero =
// open) and, when Unfinished, those that have not ended (charged to Month).
type LedgerFilter struct {
	Team, Project string
	From, To      time.Time
	Unfinished    bool
	Month         string
}

// Ledger sums what the jobs controller recorded.
type Ledger interface {
	// SumJobCosts sums the recorded GPU-seconds and cost of the jobs f
	// selects that used GPU time or hold GPUs now, grouped by g.
	SumJobCosts(ctx context.Context, f LedgerFilter, g GroupBy) ([]Line, error)
	ListJobs(ctx context.Context, f jobs.Filter, after string, limit int) ([]jobs.Job, error)
}

// Validate checks the query.
func (q Query) Validate() []fault.FieldError {
	var errs []fault.FieldError
	if q.Project != "" && q.Team == "" {
		errs = append(errs, fault.Field("project", "needs team: project names are unique only within a team"))
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		errs = append(errs, fault.Field("to", "must be after from (%s)", q.From.Format(time.RFC3339)))
	}
	if q.GroupBy != "" && !slices.Contains(Groupings, q.GroupBy) {
		errs = append(errs, fault.Field("groupBy", "must be one of team, project, month, gpuType (got %q)", q.GroupBy))
	}
	return errs
}

// Report sums GPU-hours and cost of ended and running jobs, to any reader.
func (s *Service) Report(ctx context.Context, p identity.Principal, q Query) (Report, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return Report{}, fault.Denied("this credential cannot read costs; use a token with the read verb")
	}
	if errs := q.Validate(); len(errs) > 0 {
		return Report{}, fault.Invalid("the cost query is not valid", errs...)
	}
	if q.GroupBy == "" {
		q.GroupBy = ByTeam
	}
	return s.report(ctx, q)
}

func (s *Service) report(ctx context.Context, q Query) (Report, error) {
	now := s.clock.Now().UTC()
	month := now.Format(MonthLayout)
	running := (q.From.IsZero() || !now.Before(q.From)) && (q.To.IsZero() || now.Before(q.To))
	lines, err := s.ledger.SumJobCosts(ctx, LedgerFilter{Team: q.Team, Project: q.Project, From: q.From, To: q.To,
		Unfinished: running, Month: month}, q.GroupBy)
	if err != nil {
		return Report{}, err
	}
	if running {
		held, err := s.holding(ctx, q.Team, q.Project)
		if err != nil {
			return Report{}, err
		}
		lines = addRunning(lines, held, q.GroupBy, month, now, s.prices)
	}
	r := Report{Query: q, Currency: s.prices.Currency, Lines: lines, AsOf: now}
	for _, l := range lines {
		r.Total.Jobs += l.Jobs
		r.Total.GPUSeconds += l.GPUSeconds
		r.Total.Cost += l.Cost
	}
	return r, nil
}

func (s *Service) holding(ctx context.Context, teamName, projectName string) ([]jobs.Job, error) {
	var out []jobs.Job
	f := jobs.Filter{Team: teamName, Project: projectName, States: []jobs.State{jobs.StateStarting, jobs.StateRunning, jobs.StateStopping}}
	for after := ""; ; {
		page, err := s.ledger.ListJobs(ctx, f, after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// keyOf is j's line in grouping g; unfinished jobs are charged to month.
func keyOf(j jobs.Job, g GroupBy, month string) Key {
	switch g {
	case ByProject:
		return Key{Team: j.Team, Project: j.Project}
	case ByMonth:
		if j.State.Final() {
			month = j.FinishedAt.UTC().Format(MonthLayout)
		}
		return Key{Month: month}
	case ByGPUType:
		return Key{GPUType: j.GPUType}
	}
	return Key{Team: j.Team}
}

// addRunning adds the current attempt of each job holding GPUs — its
// GPUs × the time since it started, at its price — to the recorded sums
// (which hold its earlier attempts and count it already). The result is
// sorted by key.
func addRunning(lines []Line, held []jobs.Job, g GroupBy, month string, now time.Time, prices Prices) []Line {
	index := make(map[Key]int, len(lines))
	for i, l := range lines {
		index[l.Key] = i
	}
	for _, j := range held {
		if !j.State.Holds() || j.StartedAt.IsZero() {
			continue
		}
		d := max(now.Sub(j.StartedAt), 0)
		k := keyOf(j, g, month)
		i, ok := index[k]
		if !ok { // it started between the two reads: count it here
			i = len(lines)
			index[k] = i
			lines = append(lines, Line{Key: k, Jobs: 1})
		}
		lines[i].GPUSeconds += float64(j.TotalGPUs()) * d.Seconds()
		lines[i].Cost += prices.AttemptCost(j, d)
	}
	slices.SortFunc(lines, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Key.Team, b.Key.Team), cmp.Compare(a.Key.Project, b.Key.Project),
			cmp.Compare(a.Key.Month, b.Key.Month), cmp.Compare(a.Key.GPUType, b.Key.GPUType))
	})
	return lines
}
