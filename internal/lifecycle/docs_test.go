package lifecycle

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDocsExamples keeps docs/lifecycle-templates.md honest: its example
// template is valid and its example overrides merge onto realtime-serving.
func TestDocsExamples(t *testing.T) {
	b, err := os.ReadFile("../../docs/lifecycle-templates.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	block := func(after, lang string) string {
		_, rest, ok := strings.Cut(doc, after)
		if !ok {
			t.Fatalf("docs: no %q", after)
		}
		_, rest, ok = strings.Cut(rest, "```"+lang+"\n")
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatalf("docs: no %s block after %q", lang, after)
		}
		return body
	}

	tpl, err := Decode("example", []byte(block("### Example", "yaml")))
	if err != nil {
		t.Fatal(err)
	}
	if fes := tpl.Validate(); fes != nil {
		t.Errorf("the example template does not validate: %v", fes)
	}

	var o Overrides
	dec := json.NewDecoder(strings.NewReader(block("## What a project may override", "json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if _, fes := Merge(shippedTemplate(t, "realtime-serving"), o); fes != nil {
		t.Errorf("the example overrides do not merge: %v", fes)
	}
}
