package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Kinds of PlaceholderError; test with errors.Is.
var (
	// ErrUnknownValue: ${{ values.X }} names a value the caller did not supply.
	ErrUnknownValue = errors.New("unknown value")
	// ErrUnsupported: a ${{ … }} expression other than values.X and the opener escapes.
	ErrUnsupported = errors.New("unsupported expression (only ${{ values.NAME }} and ${{ '${{' }} are allowed)")
	// ErrUnterminated: a ${{ without its closing }}.
	ErrUnterminated = errors.New("unterminated placeholder (no closing }})")
	// ErrNunjucksTag: {% or {#, which Backstage's nunjucks would read as a block or comment.
	ErrNunjucksTag = errors.New("nunjucks tag (Backstage would interpret it; write ${{ '{%' }} or ${{ '{#' }})")
	// ErrFileName: a file name that renders empty, escapes the tree or collides with another.
	ErrFileName = errors.New("invalid rendered file name")
)

// PlaceholderError says where and why a skeleton cannot be rendered.
type PlaceholderError struct {
	File        string // path in the skeleton, before rendering
	Line        int    // 1-based line of the placeholder; 0 when it is in the file's name
	Placeholder string // the offending text as written, shortened when long
	Err         error  // one of the Err* kinds above
}

func (e *PlaceholderError) Error() string {
	where := e.File + " (file name)"
	if e.Line > 0 {
		where = e.File + ":" + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("%s: %v: %s", where, e.Err, e.Placeholder)
}

func (e *PlaceholderError) Unwrap() error { return e.Err }

// escapes are the string literals a placeholder may hold: the openers that cannot be written
// literally. Nunjucks renders a string literal as its content, so both renderers agree.
var escapes = map[string]string{
	`'${{'`: "${{", `"${{"`: "${{",
	`'{%'`: "{%", `"{%"`: "{%",
	`'{#'`: "{#", `"{#"`: "{#",
}

// Render renders every file of files with values and returns the rendered contents keyed by
// rendered slash-separated path. Binary files (those holding a NUL byte) are copied untouched
// but their names are rendered. All placeholder problems are reported together, each a
// *PlaceholderError joined with errors.Join; an I/O error from files stops the walk.
func Render(files fs.FS, values map[string]string) (map[string][]byte, error) {
	out := make(map[string][]byte)
	source := make(map[string]string) // rendered path → skeleton path, to report collisions
	var problems []error
	walkErr := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("render %s: not a regular file (%v)", path, d.Type())
		}
		data, err := fs.ReadFile(files, path)
		if err != nil {
			return fmt.Errorf("render %s: %w", path, err)
		}
		name, nameProblems := renderName(path, values)
		problems = append(problems, nameProblems...)
		if len(nameProblems) == 0 {
			if prev, dup := source[name]; dup {
				problems = append(problems, &PlaceholderError{File: path, Placeholder: name + " (also rendered from " + prev + ")", Err: ErrFileName})
			}
			source[name] = path
		}
		if bytes.IndexByte(data, 0) >= 0 {
			out[name] = data
			return nil
		}
		text, textProblems := renderText(path, data, values)
		problems = append(problems, textProblems...)
		out[name] = text
		return nil
	})
	if walkErr != nil {
		return nil, walkErr
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}

// renderName renders a skeleton path's placeholders and checks the result is a valid path.
func renderName(path string, values map[string]string) (string, []error) {
	rendered, problems := renderText(path, []byte(path), values)
	for _, p := range problems {
		p.(*PlaceholderError).Line = 0
	}
	if len(problems) > 0 {
		return "", problems
	}
	name := string(rendered)
	if !fs.ValidPath(name) || name == "." {
		return "", []error{&PlaceholderError{File: path, Placeholder: strconv.Quote(name), Err: ErrFileName}}
	}
	return name, nil
}

// renderText substitutes the placeholders of one file's contents.
func renderText(file string, data []byte, values map[string]string) ([]byte, []error) {
	var (
		out      bytes.Buffer
		problems []error
		line     = 1
		copied   = 0 // data[:copied] has been written to out or consumed
	)
	out.Grow(len(data))
scan:
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			line++
			continue
		case '{':
			if i+1 < len(data) && (data[i+1] == '%' || data[i+1] == '#') {
				problems = append(problems, &PlaceholderError{File: file, Line: line, Placeholder: excerpt(data[i:]), Err: ErrNunjucksTag})
				i++
			}
			continue
		case '$':
			if !bytes.HasPrefix(data[i:], []byte("${{")) {
				continue
			}
		default:
			continue
		}
		// data[i:] starts with ${{.
		end := bytes.Index(data[i+3:], []byte("}}"))
		if end < 0 {
			problems = append(problems, &PlaceholderError{File: file, Line: line, Placeholder: excerpt(data[i:]), Err: ErrUnterminated})
			break scan
		}
		stop := i + 3 + end + 2
		placeholder := data[i:stop]
		replacement, err := evaluate(string(data[i+3:stop-2]), values)
		if err != nil {
			problems = append(problems, &PlaceholderError{File: file, Line: line, Placeholder: shorten(string(placeholder)), Err: err})
		}
		out.Write(data[copied:i])
		out.WriteString(replacement)
		copied = stop
		line += bytes.Count(placeholder, []byte("\n"))
		i = stop - 1
	}
	out.Write(data[copied:])
	return out.Bytes(), problems
}

// evaluate returns the text of one placeholder's expression (what is between ${{ and }}).
func evaluate(expr string, values map[string]string) (string, error) {
	expr = strings.TrimSpace(expr)
	if name, ok := strings.CutPrefix(expr, "values."); ok && isIdentifier(name) {
		v, ok := values[name]
		if !ok {
			return "", ErrUnknownValue
		}
		return v, nil
	}
	if lit, ok := escapes[expr]; ok {
		return lit, nil
	}
	return "", ErrUnsupported
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// excerpt is the rest of the line starting at data, shortened, for an error message.
func excerpt(data []byte) string {
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		data = data[:nl]
	}
	return shorten(strings.TrimSpace(string(data)))
}

func shorten(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
