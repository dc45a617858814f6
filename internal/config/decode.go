package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// FileError is one problem found while decoding one configuration file.
type FileError struct {
	File   string // the path as passed to Load
	Field  string // full key path, e.g. "mlportal.server.addr" or "mlportal.auth.admins[1]"
	Reason string
}

func (e *FileError) Error() string { return e.File + ": " + e.Field + ": " + e.Reason }

// maxFileValue bounds what a "$file:" value may read.
const maxFileValue = 1 << 20

// decoder strictly decodes one file's mlportal section into a Config that
// already holds the defaults and the earlier files: keys it meets overwrite
// the fields they name (so maps merge deeply), sequences are replaced, and
// undefined values leave the field alone.
type decoder struct {
	file string                      // for messages
	dir  string                      // "$file:" paths are relative to it
	env  func(string) (string, bool) // never nil
	errs []error
}

func (d *decoder) problem(field, format string, args ...any) {
	d.errs = append(d.errs, &FileError{File: d.file, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// resolve returns the node n stands for once aliases, "$env", "$file" and
// "${VAR}" have been applied, and whether that value came from substitution
// (so it is a string that may spell a number). ok is false when the value is
// undefined (null, or an unset variable) or a problem was recorded.
func (d *decoder) resolve(field string, n *yaml.Node) (v *yaml.Node, substituted, ok bool) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			d.problem(field, "alias chain too long")
			return nil, false, false
		}
		n = n.Alias
	}
	switch {
	case n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return nil, false, false
	case n.Kind == yaml.MappingNode && len(n.Content) >= 2 && isValueForm(n):
		s, ok := d.valueForm(field, n)
		if !ok {
			return nil, false, false
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}, true, true
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && strings.Contains(n.Value, "${"):
		s, ok := substitute(n.Value, d.env)
		if !ok {
			return nil, false, false
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}, true, true
	}
	return n, false, true
}

func isValueForm(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "$env" || k == "$file" {
			return true
		}
	}
	return false
}

// valueForm evaluates {$env: VAR} and {$file: path}.
func (d *decoder) valueForm(field string, n *yaml.Node) (string, bool) {
	if len(n.Content) != 2 {
		d.problem(field, "$env and $file must be the only key of their mapping")
		return "", false
	}
	key, arg := n.Content[0].Value, n.Content[1]
	for arg != nil && arg.Kind == yaml.AliasNode {
		arg = arg.Alias
	}
	if arg == nil || arg.Kind != yaml.ScalarNode || arg.ShortTag() != "!!str" || arg.Value == "" {
		d.problem(field, "%s: expected a string, got %s", key, describe(arg))
		return "", false
	}
	s, ok := substitute(arg.Value, d.env)
	if !ok {
		return "", false
	}
	if key == "$env" {
		return lookup(d.env, s)
	}
	b, err := readSmallFile(filepath.Join(d.dir, s))
	if err != nil {
		d.problem(field, "$file: %v", err)
		return "", false
	}
	return string(b), true
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileValue+1))
	if err == nil && len(b) > maxFileValue {
		err = fmt.Errorf("%s is larger than %d bytes", path, maxFileValue)
	}
	return b, err
}

var substRE = regexp.MustCompile(`\$?\$\{[^{}]*\}`)

// substitute replaces "${VAR}" in s as Backstage does: "$${VAR}" is a
// literal "${VAR}", and if any variable is unset the whole value is undefined.
func substitute(s string, env func(string) (string, bool)) (string, bool) {
	defined := true
	out := substRE.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "$$") {
			return m[1:]
		}
		v, ok := lookup(env, strings.TrimSpace(m[2:len(m)-1]))
		defined = defined && ok
		return v
	})
	return out, defined
}

// lookup trims the value, as Backstage's default substitution does.
func lookup(env func(string) (string, bool), name string) (string, bool) {
	if name == "" {
		return "", false
	}
	v, ok := env(name)
	return strings.TrimSpace(v), ok
}

var (
	durationType = reflect.TypeFor[Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	opaqueType   = reflect.TypeFor[Opaque]()
)

// decode stores the resolved node n into v, recording problems under field.
func (d *decoder) decode(field string, n *yaml.Node, substituted bool, v reflect.Value) {
	switch v.Type() {
	case opaqueType:
		if n.Kind != yaml.MappingNode && !(n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
			d.problem(field, "expected a mapping, got %s", describe(n))
			return
		}
		v.Set(reflect.ValueOf(Opaque{Node: n}))
		return
	case durationType, byteSizeType:
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.problem(field, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(field, n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.problem(field, "expected a sequence, got %s", describe(n))
			return
		}
		out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
		for i, e := range n.Content {
			path := field + "[" + strconv.Itoa(i) + "]"
			if e, sub, ok := d.resolve(path, e); ok {
				elem := reflect.New(v.Type().Elem()).Elem()
				d.decode(path, e, sub, elem)
				out = reflect.Append(out, elem)
			}
		}
		v.Set(out)
	case reflect.Map: // string keys, e.g. labels
		if n.Kind != yaml.MappingNode {
			d.problem(field, "expected a mapping, got %s", describe(n))
			return
		}
		if len(n.Content) == 0 {
			v.SetZero() // {} is no entries, like an absent key
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			path := field + "." + k.Value
			if k.Kind != yaml.ScalarNode {
				d.problem(field, "keys must be strings, got %s", describe(k))
				continue
			}
			if out.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				d.problem(path, "duplicate key")
				continue
			}
			if e, sub, ok := d.resolve(path, n.Content[i+1]); ok {
				elem := reflect.New(v.Type().Elem()).Elem()
				d.decode(path, e, sub, elem)
				out.SetMapIndex(reflect.ValueOf(k.Value), elem)
			}
		}
		v.Set(out)
	case reflect.Bool:
		switch {
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool",
			substituted && (n.Value == "true" || n.Value == "false"):
			v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
		default:
			d.problem(field, "expected true or false, got %s", describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.problem(field, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int64
		var err error
		switch {
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int":
			err = n.Decode(&i)
		case substituted:
			i, err = strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
		default:
			d.problem(field, "expected an integer, got %s", describe(n))
			return
		}
		if err != nil {
			d.problem(field, "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		var err error
		switch {
		case n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!float" || n.ShortTag() == "!!int"):
			err = n.Decode(&f)
		case substituted:
			f, err = strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
		default:
			err = fmt.Errorf("not a number")
		}
		if err != nil {
			d.problem(field, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("config: no decoder for " + v.Type().String())
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
		names = append(names, name)
		index[name] = i
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.problem(field, "keys must be strings, got %s", describe(k))
			continue
		}
		path := field + "." + k.Value
		if seen[k.Value] {
			d.problem(path, "duplicate key")
			continue
		}
		seen[k.Value] = true
		fi, known := index[k.Value]
		if !known {
			if s := suggest(k.Value, names); s != "" {
				d.problem(path, "unknown key (did you mean %q?)", s)
			} else {
				d.problem(path, "unknown key (known keys: %s)", strings.Join(names, ", "))
			}
			continue
		}
		if val, sub, ok := d.resolve(path, val); ok {
			d.decode(path, val, sub, v.Field(fi))
		}
	}
}

// describe names a node's kind and value for a message.
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return describe(n.Alias)
	case yaml.ScalarNode:
	default:
		return "an empty document"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "..."
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("string %q", v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), v)
}
