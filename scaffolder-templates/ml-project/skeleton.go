// Package mlproject embeds the ML project skeleton that a new mlportal project's repository
// starts from: scikit-learn training with MLflow tracking and registration, evaluation with
// thresholds, an Open Inference Protocol v2 server, tests, a Dockerfile, a Backstage catalog
// entry, TechDocs and a GitHub Actions pipeline driving the mlportal CLI.
//
// The files under skeleton/ hold Backstage-style ${{ values.NAME }} placeholders (VALUES.md
// lists them); package internal/render fills them for mlportal, Backstage's fetch:template
// does the same for the portal. This package only carries the files: it neither renders them
// nor writes a repository.
package mlproject

import (
	"embed"
	"io/fs"
)

// Skeleton holds skeleton/ and everything under it, dot-files included.
//
//go:embed all:skeleton
var Skeleton embed.FS

// Files returns the skeleton's tree rooted at its top directory, ready for render.Render.
func Files() fs.FS {
	sub, err := fs.Sub(Skeleton, "skeleton")
	if err != nil {
		panic(err) // unreachable: "skeleton" is a valid path embedded above
	}
	return sub
}
