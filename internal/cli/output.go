package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

// printer writes results in the format chosen with --output.
type printer struct {
	w      io.Writer
	format string
}

func (p printer) validate() error {
	switch p.format {
	case "table", "json", "yaml":
		return nil
	}
	return usageError("--output must be table, json or yaml (got %q)", p.format)
}

// print writes v as JSON or YAML, or calls table for the table format.
func (p printer) print(v any, header []string, rows func() [][]string) error {
	switch p.format {
	case "json":
		enc := json.NewEncoder(p.w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		// Through JSON, so keys keep the API's names.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var generic any
		if err := json.Unmarshal(b, &generic); err != nil {
			return err
		}
		out, err := yaml.Marshal(generic)
		if err != nil {
			return err
		}
		_, err = p.w.Write(out)
		return err
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows() {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// note writes a human message (what happened, what next) unless the output
// is meant for machines.
func (p printer) note(format string, args ...any) {
	if p.format == "table" {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}
