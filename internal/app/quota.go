package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/quota"
	"github.com/mlportal/mlportal/internal/store"
)

// quotaInterval is how often temporary grants are checked for their end
// and unapplied quota decisions retried.
const quotaInterval = time.Minute

// quotaParts are the quota and cost services, and what the jobs service
// and controller take from them.
type quotaParts struct {
	quota  *quota.Service
	costs  *cost.Service
	prices cost.Prices
	wg     sync.WaitGroup
}

// newQuotaParts wires quota requests (applied to namespaces through nss,
// nil in local mode), cost roll-ups and budgets over the store with the
// prices of mlportal.costs.
func newQuotaParts(cfg config.Config, st *store.Store, nss project.Namespaces, clk clock.Clock, log *slog.Logger) *quotaParts {
	q := &quotaParts{prices: pricesFrom(cfg.Costs)}
	qc := quota.Config{Repo: st, Teams: st, Projects: st, Jobs: st, Clock: clk, Log: log,
		DefaultProjectGPUs: cfg.Projects.DefaultQuota.GPUs}
	if nss != nil {
		qc.Namespaces = namespaceQuotas{nss}
	}
	q.quota = quota.NewService(qc)
	q.costs = cost.NewService(st, st, st, q.prices, clk, log)
	return q
}

func pricesFrom(c config.CostsConfig) cost.Prices {
	p := cost.Prices{Currency: c.Currency, CPUCoreHour: c.CPUCoreHourPrice, MemoryGiBHour: c.MemoryGiBHourPrice,
		GPU: make(map[string]cost.PoolPrices, len(c.GPUHourPrices))}
	for gpuType, pp := range c.GPUHourPrices {
		p.GPU[gpuType] = cost.PoolPrices{OnDemand: pp.OnDemand, Spot: pp.Spot}
	}
	return p
}

// start runs the quota requests' background check until ctx ends.
func (q *quotaParts) start(ctx context.Context) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		q.quota.Run(ctx, quotaInterval)
	}()
}

// wait returns once the background check has stopped.
func (q *quotaParts) wait() { q.wg.Wait() }

// jobOptions are the jobs service's options: the budget check on submit.
func (q *quotaParts) jobOptions() []jobs.Option {
	return []jobs.Option{jobs.WithBudgetCheck(q.costs.Check)}
}

// pricer prices job attempts (jobs.ControllerConfig.Pricer).
func (q *quotaParts) pricer() jobs.Pricer { return q.prices }

// namespaceQuotas applies a project's quota to its namespace through the
// namespace adapter (the whole namespace spec, by server-side apply).
type namespaceQuotas struct{ ns project.Namespaces }

var _ quota.NamespaceQuotas = namespaceQuotas{}

func (n namespaceQuotas) Apply(ctx context.Context, team, projectName string, q project.Quota) error {
	_, err := n.ns.Ensure(ctx, team, projectName, q)
	return err
}
