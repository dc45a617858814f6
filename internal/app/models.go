package app

import (
	"context"
	"log/slog"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
)

// modelsParts are the registry view, the change feed and datasets (also
// the registry's gate against models trained on failed data).
type modelsParts struct {
	service  *models.Service
	feed     *models.Feed
	datasets *datasets.Service
	log      models.ChangeLog
	done     chan struct{} // closed when the facts warmer has stopped
}

// start caches the artifacts' facts of versions as they are registered,
// until ctx is cancelled.
func (m *modelsParts) start(ctx context.Context) {
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		m.service.WarmFacts(ctx, m.log)
	}()
}

// wait returns once what start began has stopped.
func (m *modelsParts) wait() {
	if m != nil && m.done != nil {
		<-m.done
	}
}

// newModels wires datasets, the registry view over the store and the
// artifact store, and the change feed over the store's change log.
func newModels(st *store.Store, artifacts artifact.Store, templates *lifecycle.Catalog, teams *team.Service, clk clock.Clock, log *slog.Logger) *modelsParts {
	ds := datasets.NewService(st, st, templates, st, teams, clk)
	cfg := models.Config{Registry: st, Runs: st, Facts: st, Approvals: st, Code: st, Datasets: ds, Teams: teams, Clock: clk, Log: log}
	if artifacts != nil {
		cfg.Artifacts = artifacts
	}
	return &modelsParts{service: models.NewService(cfg), feed: models.NewFeed(st, 0), datasets: ds, log: st}
}
