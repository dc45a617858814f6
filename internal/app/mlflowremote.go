package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/mlflowremote"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/tracking"
)

// trackingRepos are the repositories tracking and the registry run on.
type trackingRepos struct {
	tracking tracking.Repository
	registry modelregistry.Repository
	sources  modelregistry.Sources
}

// newTrackingRepos picks mlportal's own store, or the MLflow server
// mlportal.mlflow.trackingUri names as the system of record.
func newTrackingRepos(ctx context.Context, cfg config.MLflowConfig, st *store.Store, log *slog.Logger) (trackingRepos, error) {
	if cfg.TrackingURI == "" {
		return trackingRepos{tracking: st, registry: st, sources: st}, nil
	}
	c, err := mlflowclient.New(mlflowclient.Config{URL: cfg.TrackingURI, Token: cfg.Token, Username: cfg.Username,
		Password: cfg.Password, Timeout: cfg.Timeout.Duration})
	if err != nil {
		return trackingRepos{}, fmt.Errorf("mlportal.mlflow.trackingUri: %w", err)
	}
	if err := c.Ping(ctx); err != nil {
		log.Warn("the MLflow server is not answering yet; tracking calls fail until it does", "trackingUri", cfg.TrackingURI, "err", err)
	}
	trk := mlflowremote.NewTracking(c)
	log.Info("tracking and model registry on an existing MLflow server", "trackingUri", cfg.TrackingURI)
	return trackingRepos{tracking: trk, registry: mlflowremote.NewRegistry(c, trk), sources: trk}, nil
}
