package lifecycle

import (
	"cmp"
	"embed"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

//go:embed templates/*.yaml
var shippedFS embed.FS

// Source is a set of template files: every *.yaml and *.yml file at the top
// of FS. Name is the directory as the operator wrote it; file names in
// messages are Name joined with the file's name.
type Source struct {
	Name    string
	FS      fs.FS
	Shipped bool
}

// Shipped returns the templates that ship inside mlportal, from
// internal/lifecycle/templates in the repository.
func Shipped() Source {
	sub, err := fs.Sub(shippedFS, "templates")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return Source{Name: "internal/lifecycle/templates", FS: sub, Shipped: true}
}

// Dir returns the templates in a directory, as in
// mlportal.lifecycle.templateDirs.
func Dir(dir string) Source { return Source{Name: dir, FS: os.DirFS(dir)} }

// Catalog holds every valid template by name and version. It is immutable:
// its methods return copies and may be called concurrently.
type Catalog struct {
	byName map[string][]Template // versions in ascending precedence
}

// Load returns the catalog of the shipped templates and those in dirs
// (mlportal.lifecycle.templateDirs), in that order. See [NewCatalog].
func Load(dirs []string) (*Catalog, error) {
	sources := []Source{Shipped()}
	for _, d := range dirs {
		sources = append(sources, Dir(d))
	}
	return NewCatalog(sources...)
}

// NewCatalog reads, decodes and validates every template of sources. A
// template whose name is already known adds a version; one whose name and
// version are both known is an error naming both files. Any problem in any
// file fails the whole catalog: all problems are returned at once, joined,
// each a *FileError.
func NewCatalog(sources ...Source) (*Catalog, error) {
	c := &Catalog{byName: map[string][]Template{}}
	var errs []error
	for _, src := range sources {
		tpls, srcErrs := readSource(src)
		errs = append(errs, srcErrs...)
		for _, t := range tpls {
			versions := c.byName[t.Metadata.Name]
			if i := slices.IndexFunc(versions, func(o Template) bool { return o.Metadata.Version == t.Metadata.Version }); i >= 0 {
				errs = append(errs, &FileError{File: t.File, FieldError: fault.Field("metadata.version",
					"%s %s is already defined in %s; give this template a new version or another name",
					t.Metadata.Name, t.Metadata.Version, describeFile(versions[i]))})
				continue
			}
			c.byName[t.Metadata.Name] = append(versions, t)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, versions := range c.byName {
		slices.SortFunc(versions, func(a, b Template) int { return compareVersions(a.Metadata.Version, b.Metadata.Version) })
	}
	return c, nil
}

func describeFile(t Template) string {
	if t.Shipped {
		return t.File + " (shipped with mlportal)"
	}
	return t.File
}

// readSource returns the valid templates of src, ordered by file name, and
// the problems of the others.
func readSource(src Source) ([]Template, []error) {
	entries, err := fs.ReadDir(src.FS, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []error{&FileError{File: src.Name, FieldError: fault.Field("", "lifecycle template directory does not exist")}}
	} else if err != nil {
		return nil, []error{&FileError{File: src.Name, FieldError: fault.Field("", "cannot read lifecycle template directory: %v", err)}}
	}
	var tpls []Template
	var errs []error
	for _, e := range entries {
		if e.IsDir() || (path.Ext(e.Name()) != ".yaml" && path.Ext(e.Name()) != ".yml") {
			continue
		}
		file := path.Join(src.Name, e.Name())
		if !src.Shipped {
			file = filepath.Join(src.Name, e.Name())
		}
		data, err := fs.ReadFile(src.FS, e.Name())
		if err != nil {
			errs = append(errs, &FileError{File: file, FieldError: fault.Field("", "cannot read: %v", err)})
			continue
		}
		t, err := Decode(file, data)
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			errs = append(errs, joined.Unwrap()...)
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		t.Shipped = src.Shipped
		if fes := t.Validate(); len(fes) > 0 {
			for _, fe := range fes {
				errs = append(errs, &FileError{File: file, FieldError: fe})
			}
			continue
		}
		tpls = append(tpls, t)
	}
	return tpls, errs
}

// List returns every template, by name, newest version first.
func (c *Catalog) List() []Template {
	var out []Template
	for _, versions := range c.byName {
		for i := len(versions) - 1; i >= 0; i-- {
			out = append(out, versions[i].Clone())
		}
	}
	slices.SortStableFunc(out, func(a, b Template) int { return cmp.Compare(a.Metadata.Name, b.Metadata.Name) })
	return out
}

// Get returns one version of a template; version "" means the latest: the
// highest release, or the highest pre-release when there is no release. It
// returns a fault.ErrNotFound error for an unknown name or version and a
// fault.ErrInvalid one for a version that is not semantic.
func (c *Catalog) Get(name, version string) (Template, error) {
	versions := c.byName[name]
	if len(versions) == 0 {
		return Template{}, fault.NotFound("lifecycle template", name)
	}
	if version == "" {
		latest := versions[len(versions)-1]
		for _, t := range slices.Backward(versions) {
			if v, _ := parseVersion(t.Metadata.Version); len(v.pre) == 0 {
				latest = t
				break
			}
		}
		return latest.Clone(), nil
	}
	if _, ok := parseVersion(version); !ok {
		return Template{}, fault.Invalid("invalid lifecycle template version",
			fault.Field("version", "must be a semantic version such as 1.2.0, or empty for the latest (got %q)", version))
	}
	for _, t := range versions {
		if t.Metadata.Version == version {
			return t.Clone(), nil
		}
	}
	known := make([]string, len(versions))
	for i, t := range versions {
		known[i] = t.Metadata.Version
	}
	return Template{}, fault.New(fault.ErrNotFound, "lifecycle template %q has no version %q (it has %s)", name, version, strings.Join(known, ", "))
}
