package cost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/team"
)

// DefaultWarningThreshold is the fraction of a budget that warns.
const DefaultWarningThreshold = 0.8

// Budget is a team's monthly spending limit.
type Budget struct {
	Team string
	// MonthlyAmount in the configured currency, every calendar month (UTC).
	MonthlyAmount float64
	// WarningThreshold is the fraction of MonthlyAmount from which
	// submissions carry a warning.
	WarningThreshold float64
	// HardLimit refuses new jobs once the month's spending reaches
	// MonthlyAmount; without it, going over only warns.
	HardLimit bool
	UpdatedBy string
	UpdatedAt time.Time
	// Version increases on every change; it is the ETag.
	Version int64
}

// BudgetSpec is what a platform admin sets.
type BudgetSpec struct {
	MonthlyAmount    float64
	WarningThreshold *float64 // nil = DefaultWarningThreshold
	HardLimit        bool
}

// BudgetState is where a team stands against its budget this month.
type BudgetState string

// Budget states.
const (
	BudgetNone     BudgetState = "none" // no budget set
	BudgetOK       BudgetState = "ok"
	BudgetWarning  BudgetState = "warning"  // at or over the warning threshold
	BudgetExceeded BudgetState = "exceeded" // at or over the amount
)

// BudgetStatus is a team's budget and this month's spending.
type BudgetStatus struct {
	Budget   // zero but Team when none is set
	Currency string
	Month    string // YYYY-MM, UTC
	Spent    float64
	// Fraction is Spent / MonthlyAmount (0 without a budget).
	Fraction float64
	State    BudgetState
}

// Budgets persists budgets. GetBudget fails with fault.ErrNotFound when
// the team has none; PutBudget creates (ifVersion 0) or replaces the
// budget of that version, else fault.ErrPreconditionFailed.
type Budgets interface {
	GetBudget(ctx context.Context, team string) (Budget, error)
	PutBudget(ctx context.Context, b Budget, ifVersion int64) error
}

// Teams finds teams.
type Teams interface {
	GetTeam(ctx context.Context, name string) (team.Team, error)
}

// Service is the cost and budget use cases.
type Service struct {
	ledger  Ledger
	budgets Budgets
	teams   Teams
	prices  Prices
	clock   clock.Clock
	log     *slog.Logger
}

// NewService returns the cost service.
func NewService(ledger Ledger, budgets Budgets, teams Teams, prices Prices, clk clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{ledger: ledger, budgets: budgets, teams: teams, prices: prices, clock: clk, log: log}
}

// Prices returns the prices in force.
func (s *Service) Prices() Prices { return s.prices }

// MonthOf returns the calendar month (UTC) around t: [start, end).
func MonthOf(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// Validate checks a budget spec.
func (b BudgetSpec) Validate() []fault.FieldError {
	var errs []fault.FieldError
	if math.IsNaN(b.MonthlyAmount) || b.MonthlyAmount <= 0 || b.MonthlyAmount > 1e12 {
		errs = append(errs, fault.Field("monthlyAmount", "must be a positive amount (got %v)", b.MonthlyAmount))
	}
	if w := b.WarningThreshold; w != nil && (math.IsNaN(*w) || *w <= 0 || *w > 1) {
		errs = append(errs, fault.Field("warningThreshold", "must be a fraction of the amount in (0, 1], e.g. 0.8 (got %v)", *w))
	}
	return errs
}

// GetBudget returns a team's budget and this month's spending to any reader.
func (s *Service) GetBudget(ctx context.Context, p identity.Principal, teamName string) (BudgetStatus, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return BudgetStatus{}, fault.Denied("this credential cannot read budgets; use a token with the read verb")
	}
	if _, err := s.teams.GetTeam(ctx, teamName); err != nil {
		return BudgetStatus{}, err
	}
	return s.status(ctx, teamName)
}

// SetBudget sets a team's budget; only platform admins may. ifVersion is
// the version the caller read (0 = do not check).
func (s *Service) SetBudget(ctx context.Context, p identity.Principal, teamName string, spec BudgetSpec, ifVersion int64) (BudgetStatus, error) {
	if !p.CanGlobally(identity.VerbAdmin) {
		return BudgetStatus{}, fault.Denied("only platform admins set budgets; ask one to run `mlportal budget set --team %s`", teamName)
	}
	if errs := spec.Validate(); len(errs) > 0 {
		return BudgetStatus{}, fault.Invalid("the budget is not valid", errs...)
	}
	if _, err := s.teams.GetTeam(ctx, teamName); err != nil {
		return BudgetStatus{}, err
	}
	cur, err := s.budgets.GetBudget(ctx, teamName)
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return BudgetStatus{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return BudgetStatus{}, fault.New(fault.ErrPreconditionFailed, "team %s's budget changed since you read it; read it again and reapply your change", teamName)
	}
	b := Budget{Team: teamName, MonthlyAmount: spec.MonthlyAmount, WarningThreshold: DefaultWarningThreshold, HardLimit: spec.HardLimit,
		UpdatedBy: p.Subject, UpdatedAt: s.clock.Now().UTC(), Version: cur.Version + 1}
	if spec.WarningThreshold != nil {
		b.WarningThreshold = *spec.WarningThreshold
	}
	if err := s.budgets.PutBudget(ctx, b, cur.Version); err != nil {
		return BudgetStatus{}, err
	}
	s.log.Info("budget set", "team", teamName, "monthlyAmount", b.MonthlyAmount, "hardLimit", b.HardLimit, "by", p.Subject)
	return s.status(ctx, teamName)
}

// status reads the team's budget and sums this month's spending.
func (s *Service) status(ctx context.Context, teamName string) (BudgetStatus, error) {
	now := s.clock.Now().UTC()
	st := BudgetStatus{Budget: Budget{Team: teamName}, Currency: s.prices.Currency, Month: now.Format(MonthLayout), State: BudgetNone}
	b, err := s.budgets.GetBudget(ctx, teamName)
	switch {
	case errors.Is(err, fault.ErrNotFound):
	case err != nil:
		return BudgetStatus{}, err
	default:
		st.Budget = b
	}
	from, to := MonthOf(now)
	r, err := s.report(ctx, Query{Team: teamName, From: from, To: to, GroupBy: ByTeam})
	if err != nil {
		return BudgetStatus{}, err
	}
	st.Spent = r.Total.Cost
	if st.Version == 0 {
		return st, nil
	}
	st.Fraction = st.Spent / st.MonthlyAmount
	switch {
	case st.Spent >= st.MonthlyAmount:
		st.State = BudgetExceeded
	case st.Fraction >= st.WarningThreshold:
		st.State = BudgetWarning
	default:
		st.State = BudgetOK
	}
	return st, nil
}

var _ jobs.BudgetCheck = (*Service)(nil).Check

// Check is the jobs service's budget check: over a hard limit it refuses
// the job, naming the budget and who can raise it; at or over the warning
// threshold (or over a soft limit) it returns a warning for the job's
// reason. Teams without a budget pass.
func (s *Service) Check(ctx context.Context, teamName string) (string, error) {
	// Most teams have no budget: one indexed read, not a sum of the
	// month's jobs, on every submission.
	if _, err := s.budgets.GetBudget(ctx, teamName); errors.Is(err, fault.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	st, err := s.status(ctx, teamName)
	if err != nil {
		return "", err
	}
	spent := fmt.Sprintf("%.2f of %.2f %s (%.0f%%)", st.Spent, st.MonthlyAmount, st.Currency, 100*st.Fraction)
	raise := fmt.Sprintf("a platform admin can raise it with `mlportal budget set --team %s --amount N`", teamName)
	switch {
	case st.State == BudgetExceeded && st.HardLimit:
		return "", fault.Denied("team %s has spent %s of its monthly budget for %s, which is a hard limit: new jobs are refused until the month ends; %s",
			teamName, spent, st.Month, raise)
	case st.State == BudgetExceeded:
		return fmt.Sprintf("budget warning: team %s is over its %s budget, %s; %s", teamName, st.Month, spent, raise), nil
	case st.State == BudgetWarning:
		limit := ""
		if st.HardLimit {
			limit = ", and new jobs are refused at 100%"
		}
		return fmt.Sprintf("budget warning: team %s has spent %s of its %s budget%s; %s", teamName, spent, st.Month, limit, raise), nil
	}
	return "", nil
}
