package app

import (
	"log/slog"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
)

// modelsParts are the registry view and the change feed.
type modelsParts struct {
	service *models.Service
	feed    *models.Feed
}

// newModels wires the registry view over the store and the artifact store,
// and the change feed over the store's change log.
func newModels(st *store.Store, artifacts artifact.Store, teams *team.Service, clk clock.Clock, log *slog.Logger) *modelsParts {
	cfg := models.Config{Registry: st, Runs: st, Facts: st, Approvals: st, Code: st, Teams: teams, Clock: clk, Log: log}
	if artifacts != nil {
		cfg.Artifacts = artifacts
	}
	return &modelsParts{service: models.NewService(cfg), feed: models.NewFeed(st, 0)}
}
