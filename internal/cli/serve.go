package cli

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/config"
)

func newServeCmd(g *globals) *cobra.Command {
	var files []string
	var addr, dataDir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the mlportal server",
		Long: `Run the mlportal server.

Configuration comes from app-config.yaml (and app-config.local.yaml if present)
in the working directory, or from the --config files in order (later files win).
In local mode (the default: SQLite under --data-dir) the admin token is
$MLPORTAL_ADMIN_TOKEN, or generated on first start and kept in <data-dir>/admin-token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				files = config.DefaultFiles(".")
			}
			cfg, err := config.Load(files, os.LookupEnv)
			if err != nil {
				return &Error{Code: ExitUsage, Message: err.Error(), Hint: "fix the configuration; docs/configuration.md lists every key"}
			}
			if addr != "" {
				cfg.Server.Addr = addr
			}
			if dataDir != "" {
				cfg.DataDir = dataDir
			}
			cfg.Complete()
			if err := cfg.Validate(); err != nil {
				return &Error{Code: ExitUsage, Message: "invalid configuration:\n" + err.Error(), Hint: "docs/configuration.md lists every key"}
			}
			log := newLogger(cfg.Log)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return app.Run(ctx, cfg, app.Options{AdminToken: os.Getenv("MLPORTAL_ADMIN_TOKEN"), Log: log, Banner: g.stdout})
		},
	}
	cmd.Flags().StringArrayVar(&files, "config", nil, "app-config file; repeat to overlay (default: app-config.yaml [+ app-config.local.yaml])")
	cmd.Flags().StringVar(&addr, "addr", "", "listen address host:port (overrides mlportal.server.addr)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "local mode state directory (overrides mlportal.dataDir)")
	return cmd
}

func newLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
