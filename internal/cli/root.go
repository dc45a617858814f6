package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/version"
)

// globals are the flags every client verb shares.
type globals struct {
	server string
	token  string
	output string
	stdout io.Writer
	stderr io.Writer
}

// NewRoot returns the `mlportal` command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "mlportal",
		Short:         "mlportal: the self-service ML platform (server and CLI)",
		Long:          "mlportal serves the ML platform API (`mlportal serve`) and is its command-line client.\nConfigure the client once with `mlportal login`; MLPORTAL_URL and MLPORTAL_TOKEN override the saved values.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.server, "server", "", "mlportal URL (default: $MLPORTAL_URL, then the saved login)")
	pf.StringVar(&g.token, "token", "", "bearer token (default: $MLPORTAL_TOKEN, then the saved login)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table, json or yaml")
	root.AddCommand(newServeCmd(g), newVersionCmd(g), newLoginCmd(g), newLogoutCmd(g), newWhoamiCmd(g),
		newTokenCmd(g), newTeamsCmd(g), newAuditCmd(g), newTemplatesCmd(g), newProjectCmd(g), newTrainCmd(g), newJobsCmd(g),
		newQuotaCmd(g), newCostsCmd(g), newBudgetCmd(g), newModelsCmd(g), newDatasetsCmd(g))
	root.AddCommand(newSimCmd(g))
	return root
}

// Execute runs the CLI with os.Args and returns the process exit code.
func Execute(ctx context.Context) int {
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run runs the CLI with args and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	if err := root.ExecuteContext(ctx); err != nil {
		return Report(stderr, err)
	}
	return ExitOK
}

func (g *globals) printer() (printer, error) {
	p := printer{w: g.stdout, format: g.output}
	return p, p.validate()
}

// conn is an API client with the resolved server and credentials.
type conn struct {
	server string
	token  string
	api    *api.ClientWithResponses
}

// client resolves server and token (flag, then env, then saved login).
func (g *globals) client() (*conn, error) {
	saved, err := loadClientConfig()
	if err != nil {
		return nil, err
	}
	server := firstNonEmpty(g.server, os.Getenv("MLPORTAL_URL"), saved.Server, "http://localhost:8080")
	tok := firstNonEmpty(g.token, os.Getenv("MLPORTAL_TOKEN"), saved.Token)
	return newConn(server, tok)
}

func newConn(server, tok string) (*conn, error) {
	server = strings.TrimSuffix(server, "/")
	c, err := api.NewClientWithResponses(server,
		api.WithHTTPClient(&http.Client{Timeout: 60 * time.Second}),
		api.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("User-Agent", "mlportal-cli/"+version.Version)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return nil
		}))
	if err != nil {
		return nil, usageError("bad --server %q: %v", server, err)
	}
	return &conn{server: server, token: tok, api: c}, nil
}

// response is what every generated *Response offers.
type response interface {
	GetBody() []byte
	StatusCode() int
	Status() string
}

// result returns the error of a call: no answer, or an error status.
func (c *conn) result(r response, err error) error {
	if err != nil {
		return transportError(c.server, err)
	}
	return apiError(r.StatusCode(), r.Status(), r.GetBody())
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// allPages follows nextPageToken until the last page.
func allPages[T any](fetch func(pageToken *string) ([]T, *string, error)) ([]T, error) {
	var all []T
	var token *string
	for {
		items, next, err := fetch(token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == nil || *next == "" {
			return all, nil
		}
		token = next
	}
}
