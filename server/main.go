// Command mlportal is the mlportal server and CLI. All behaviour lives in
// internal/cli (commands) and internal/app (the server's composition root).
package main

import (
	"context"
	"os"

	"github.com/mlportal/mlportal/internal/cli"
)

func main() {
	os.Exit(cli.Execute(context.Background()))
}
