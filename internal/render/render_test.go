package render_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/render"
)

var values = map[string]string{"name": "churn", "team": "fraud", "empty": ""}

func files(m map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range m {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func TestRender(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]string
	}{
		{
			name:  "substitution with and without spaces",
			files: map[string]string{"a.txt": "${{ values.name }}/${{values.team}}/${{  values.name\t}}"},
			want:  map[string]string{"a.txt": "churn/fraud/churn"},
		},
		{
			name:  "empty value",
			files: map[string]string{"a.txt": "[${{ values.empty }}]"},
			want:  map[string]string{"a.txt": "[]"},
		},
		{
			name: "escape of GitHub Actions expressions",
			files: map[string]string{"w.yml": "token: ${{ '${{' }} secrets.MLPORTAL_TOKEN }}\n" +
				"ref: ${{ \"${{\" }} github.ref }}-${{ values.name }}\n"},
			want: map[string]string{"w.yml": "token: ${{ secrets.MLPORTAL_TOKEN }}\nref: ${{ github.ref }}-churn\n"},
		},
		{
			name:  "escapes of nunjucks tag openers",
			files: map[string]string{"a.sh": "n=$${{ '{#' }}arr[@]} ${{ '{%' }} x %}"},
			want:  map[string]string{"a.sh": "n=${#arr[@]} {% x %}"},
		},
		{
			name:  "text without placeholders is unchanged",
			files: map[string]string{"a.py": "x = {'a': 1}\nprint(f\"{x}\") $HOME ${PATH} {{ jinja }} }}\n"},
			want:  map[string]string{"a.py": "x = {'a': 1}\nprint(f\"{x}\") $HOME ${PATH} {{ jinja }} }}\n"},
		},
		{
			name:  "a third brace stays literal",
			files: map[string]string{"a": "${{ values.name }}}"},
			want:  map[string]string{"a": "churn}"},
		},
		{
			name: "file and directory names",
			files: map[string]string{
				"${{ values.name }}/main.py":                "team = '${{ values.team }}'",
				"docs/${{values.team}}-${{values.name}}.md": "# ${{ values.name }}",
				"plain.txt": "",
			},
			want: map[string]string{
				"churn/main.py":       "team = 'fraud'",
				"docs/fraud-churn.md": "# churn",
				"plain.txt":           "",
			},
		},
		{
			name:  "binary files are copied untouched",
			files: map[string]string{"img/${{ values.name }}.png": "\x89PNG\x00${{ values.nope }}{%"},
			want:  map[string]string{"img/churn.png": "\x89PNG\x00${{ values.nope }}{%"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render.Render(files(tt.files), values)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			gotText := map[string]string{}
			for name, body := range got {
				gotText[name] = string(body)
			}
			if diff := cmp.Diff(tt.want, gotText); diff != "" {
				t.Errorf("Render (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	type problem struct {
		File        string
		Line        int
		Placeholder string
		Kind        error
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []problem
	}{
		{
			name:  "unknown value",
			files: map[string]string{"a.yaml": "a: 1\nname: ${{ values.nmae }}\n"},
			want:  []problem{{"a.yaml", 2, "${{ values.nmae }}", render.ErrUnknownValue}},
		},
		{
			name: "unsupported expressions",
			files: map[string]string{"w.yml": "a: ${{ secrets.TOKEN }}\n" +
				"b: ${{ values.name | upper }}\n" +
				"c: ${{- values.name }}\n" +
				"d: ${{ 'other' }}\n" +
				"e: ${{ values.9x }}\n" +
				"f: ${{ values. name }}\n"},
			want: []problem{
				{"w.yml", 1, "${{ secrets.TOKEN }}", render.ErrUnsupported},
				{"w.yml", 2, "${{ values.name | upper }}", render.ErrUnsupported},
				{"w.yml", 3, "${{- values.name }}", render.ErrUnsupported},
				{"w.yml", 4, "${{ 'other' }}", render.ErrUnsupported},
				{"w.yml", 5, "${{ values.9x }}", render.ErrUnsupported},
				{"w.yml", 6, "${{ values. name }}", render.ErrUnsupported},
			},
		},
		{
			name:  "unterminated placeholder",
			files: map[string]string{"a.md": "ok ${{ values.name }}\nthen ${{ values.name\nmore ${{ x"},
			want:  []problem{{"a.md", 2, "${{ values.name", render.ErrUnterminated}},
		},
		{
			name:  "nunjucks tags",
			files: map[string]string{"a.md": "{% if x %}\nlen=${#arr[@]}\n"},
			want: []problem{
				{"a.md", 1, "{% if x %}", render.ErrNunjucksTag},
				{"a.md", 2, "{#arr[@]}", render.ErrNunjucksTag},
			},
		},
		{
			name:  "line counted across a multi-line placeholder",
			files: map[string]string{"a": "${{\nvalues.name\n}} ${{ values.x }}"},
			want:  []problem{{"a", 3, "${{ values.x }}", render.ErrUnknownValue}},
		},
		{
			name:  "problems in several files and in a file name",
			files: map[string]string{"b/${{ values.dir }}/x": "", "a": "${{ values.y }}"},
			want: []problem{
				{"a", 1, "${{ values.y }}", render.ErrUnknownValue},
				{"b/${{ values.dir }}/x", 0, "${{ values.dir }}", render.ErrUnknownValue},
			},
		},
		{
			name:  "file name rendering empty",
			files: map[string]string{"${{ values.empty }}/x": ""},
			want:  []problem{{"${{ values.empty }}/x", 0, `"/x"`, render.ErrFileName}},
		},
		{
			name:  "file names colliding",
			files: map[string]string{"${{ values.name }}.txt": "", "churn.txt": ""},
			want:  []problem{{"churn.txt", 0, "churn.txt (also rendered from ${{ values.name }}.txt)", render.ErrFileName}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render.Render(files(tt.files), values)
			if err == nil {
				t.Fatalf("Render = %v, want an error", out)
			}
			if out != nil {
				t.Errorf("Render returned files with an error")
			}
			var got []problem
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var pe *render.PlaceholderError
				if !errors.As(e, &pe) {
					t.Fatalf("error %v is not a *PlaceholderError", e)
				}
				got = append(got, problem{pe.File, pe.Line, pe.Placeholder, pe.Err})
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.want[0].Kind) {
				t.Errorf("errors.Is(err, %v) = false", tt.want[0].Kind)
			}
		})
	}
}

func TestErrorMessageNamesFileLineAndPlaceholder(t *testing.T) {
	_, err := render.Render(files(map[string]string{"config/h.yaml": "a\nb: ${{ values.nmae }}"}), values)
	want := "config/h.yaml:2: unknown value: ${{ values.nmae }}"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	_, err = render.Render(files(map[string]string{"${{ values.x }}.md": ""}), values)
	if err == nil || !strings.HasPrefix(err.Error(), "${{ values.x }}.md (file name): unknown value") {
		t.Errorf("error = %v, want it to name the file name", err)
	}
}

func TestLongPlaceholdersAreShortened(t *testing.T) {
	long := "${{ " + strings.Repeat("x", 500) + " }}"
	_, err := render.Render(files(map[string]string{"a": long}), values)
	var pe *render.PlaceholderError
	if !errors.As(err, &pe) || len(pe.Placeholder) > 70 {
		t.Errorf("placeholder in error = %q, want it shortened", pe.Placeholder)
	}
}

// FuzzRender checks Render never panics, leaves text without openers unchanged, and never
// lets an unresolved ${{ values. survive a successful render.
func FuzzRender(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "${{ values.name }}", "${{values.team}}x", "${{ '${{' }} secrets.T }}",
		"${{", "${{ }}", "{%", "{#", "${{ values.nope }}", "a\n${{ values.name\n}}", "\x00${{",
		"${{ '{%' }}", "$${{{{}}}}", "é${{ values.name }}\xff",
	} {
		f.Add(seed, "v")
	}
	f.Fuzz(func(t *testing.T, body, value string) {
		vals := map[string]string{"name": value, "team": "t"}
		out, err := render.Render(fstest.MapFS{"f": {Data: []byte(body)}}, vals)
		if err != nil {
			var pe *render.PlaceholderError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PlaceholderError", err)
			}
			return
		}
		got := out["f"]
		binary := strings.IndexByte(body, 0) >= 0
		openers := strings.Contains(body, "${{") || strings.Contains(body, "{%") || strings.Contains(body, "{#")
		if (binary || !openers) && !bytes.Equal(got, []byte(body)) {
			t.Fatalf("Render changed %q to %q", body, got)
		}
		if !binary && !strings.Contains(value, "values.") && bytes.Contains(got, []byte("${{ values.")) &&
			!strings.Contains(body, "'${{'") && !strings.Contains(body, `"${{"`) {
			t.Fatalf("Render(%q) left a placeholder: %q", body, got)
		}
	})
}
