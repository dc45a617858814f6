package lifecycle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlportal/mlportal/internal/fault"
	"gopkg.in/yaml.v3"
)

// FileError is one problem with one template file: the file as named to
// the catalog, and the field's path in the document ("spec.job.timeout").
type FileError struct {
	File string
	fault.FieldError
}

func (e *FileError) Error() string {
	if e.Field == "" {
		return e.File + ": " + e.Reason
	}
	return e.File + ": " + e.Field + ": " + e.Reason
}

// maxTemplateBytes bounds a template file; real ones are a few KiB.
const maxTemplateBytes = 256 << 10

// Decode strictly decodes data, the contents of file, into a Template: an
// unknown key, a duplicate key or a value of the wrong type is an error, and
// so is a document whose apiVersion or kind is not this package's. It
// returns every problem at once, joined, each a *FileError; it does not
// validate values (see [Template.Validate]). file is only used in messages
// and stored in Template.File.
func Decode(file string, data []byte) (Template, error) {
	fail := func(field, format string, args ...any) (Template, error) {
		return Template{}, &FileError{File: file, FieldError: fault.Field(field, format, args...)}
	}
	if len(data) > maxTemplateBytes {
		return fail("", "larger than %d bytes", maxTemplateBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return fail("", "empty file; expected a LifecycleTemplate document")
	} else if err != nil {
		return fail("", "not valid YAML: %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return fail("", "holds more than one YAML document; put one template in each file")
	}
	if len(doc.Content) == 0 {
		return fail("", "empty file; expected a LifecycleTemplate document")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fail("", "expected a mapping with apiVersion, kind, metadata and spec, got %s", describe(root))
	}
	// The identity decides the schema, so check it before anything else.
	for _, id := range []struct{ key, want string }{{"apiVersion", APIVersion}, {"kind", Kind}} {
		if v := lookupKey(root, id.key); v == nil || v.Kind != yaml.ScalarNode || v.Value != id.want {
			return fail(id.key, "must be %q (got %s)", id.want, describe(v))
		}
	}
	d := decoder{file: file}
	var t Template
	d.decode("", root, reflect.ValueOf(&t).Elem())
	if len(d.errs) > 0 {
		return Template{}, errors.Join(d.errs...)
	}
	t.File = file
	return t, nil
}

func lookupKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

type decoder struct {
	file   string
	errs   []error
	visits int
}

// Limits on the work one document may cause.
const (
	maxVisits   = 100_000
	maxProblems = 50
)

func (d *decoder) problem(field, format string, args ...any) {
	switch {
	case len(d.errs) < maxProblems:
		d.errs = append(d.errs, &FileError{File: d.file, FieldError: fault.Field(field, format, args...)})
	case len(d.errs) == maxProblems:
		d.errs = append(d.errs, &FileError{File: d.file, FieldError: fault.Field("", "more problems not shown; fix these first")})
	}
}

var durationType = reflect.TypeFor[Duration]()

// decode stores n into v, recording problems under field. Null leaves v at
// its zero value, as if the key were absent.
func (d *decoder) decode(field string, n *yaml.Node, v reflect.Value) {
	// Aliases can make a small document visit many nodes; a real template
	// visits a few hundred.
	if d.visits++; d.visits > maxVisits {
		if d.visits == maxVisits+1 {
			d.problem(field, "the document is too large or uses too many aliases")
		}
		return
	}
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if i > 100 || n.Alias == nil {
			d.problem(field, "alias chain too long")
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.problem(field, "expected a duration such as \"30m\" or \"24h\", got %s", describe(n))
		} else if err := v.Addr().Interface().(*Duration).UnmarshalText([]byte(n.Value)); err != nil {
			d.problem(field, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(field, n, p.Elem())
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(field, n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.problem(field, "expected a list, got %s", describe(n))
			return
		}
		out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.decode(field+"["+strconv.Itoa(i)+"]", e, out.Index(i))
		}
		v.Set(out)
	case reflect.String:
		// Any scalar reads as its text, so that cpu: 4 and version: "1.0.0"
		// both work; a mapping or list where text belongs is an error.
		if n.Kind != yaml.ScalarNode {
			d.problem(field, "expected text, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.problem(field, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.problem(field, "expected a whole number, got %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil {
			d.problem(field, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("lifecycle: no decoder for " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(field string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.problem(field, "expected a mapping, got %s", describe(n))
		return
	}
	var names []string
	index := map[string]int{}
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name != "-" {
			names = append(names, name)
			index[name] = i
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := join(field, k.Value)
		switch fi, known := index[k.Value]; {
		case k.Kind != yaml.ScalarNode:
			d.problem(field, "keys must be text, got %s", describe(k))
		case seen[k.Value]:
			d.problem(path, "duplicate key")
		case !known:
			d.problem(path, "unknown key (known keys: %s)", strings.Join(names, ", "))
		default:
			seen[k.Value] = true
			d.decode(path, val, v.Field(fi))
		}
	}
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// describe names a node's kind and value for a message.
func describe(n *yaml.Node) string {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind != yaml.ScalarNode:
		return "an empty document"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "..."
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("text %q", v)
	case "!!int":
		return "whole number " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return v
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), v)
}
