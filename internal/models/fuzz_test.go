package models

import (
	"strings"
	"testing"
)

// FuzzParseMLmodel feeds arbitrary MLmodel files: parsing never panics,
// and what it returns is consistent.
func FuzzParseMLmodel(f *testing.F) {
	f.Add("flavors:\n  sklearn: {}\n  python_function: {}\nsignature:\n  inputs: '[{\"type\": \"double\", \"name\": \"a\"}]'\n")
	f.Add("flavors: {pytorch: {}}\nsignature:\n  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1]}}]'\n")
	f.Add("signature: null\n")
	f.Add("{")
	f.Fuzz(func(t *testing.T, in string) {
		fw, flavors, sig, err := ParseMLmodel([]byte(in))
		if err == nil && fw == "" && len(flavors) > 0 {
			t.Errorf("flavors %v but no framework", flavors)
		}
		if sig != nil {
			for _, c := range append(sig.Inputs, sig.Outputs...) {
				if c.Type == "" {
					t.Errorf("a column without a type: %+v", c)
				}
			}
		}
	})
}

// FuzzEsc checks that escaped text never carries Markdown or HTML syntax.
func FuzzEsc(f *testing.F) {
	f.Add("<script>alert(1)</script> [x](javascript:y) | `c` *b*")
	f.Fuzz(func(t *testing.T, in string) {
		out := Esc(in)
		if strings.ContainsAny(out, "<>`*[]|\n") {
			t.Errorf("Esc(%q) = %q keeps syntax", in, out)
		}
	})
}
