package githubtest

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// Git objects are stored under their real git SHA-1, computed as git does, so
// the same content always has the same name and nothing is stored twice.

type object struct {
	kind   string // blob, tree, commit
	blob   []byte
	tree   []entry
	commit *commitObj
}

type entry struct {
	mode, name, sha string
}

func (e entry) kind() string {
	switch e.mode {
	case "040000", "40000":
		return "tree"
	case "160000":
		return "commit"
	}
	return "blob"
}

type ident struct {
	Name, Email string
	Date        time.Time
}

type commitObj struct {
	tree      string
	parents   []string
	author    ident
	committer ident
	message   string
}

func hashObject(kind string, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func (o *object) encode() []byte {
	switch o.kind {
	case "blob":
		return o.blob
	case "tree":
		var b bytes.Buffer
		for _, e := range sortEntries(o.tree) {
			raw, _ := hex.DecodeString(e.sha)
			fmt.Fprintf(&b, "%s %s\x00", strings.TrimPrefix(e.mode, "0"), e.name)
			b.Write(raw)
		}
		return b.Bytes()
	}
	c := o.commit
	var b bytes.Buffer
	fmt.Fprintf(&b, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author %s\ncommitter %s\n\n%s", identLine(c.author), identLine(c.committer), c.message)
	return b.Bytes()
}

func identLine(i ident) string {
	return fmt.Sprintf("%s <%s> %d %s", i.Name, i.Email, i.Date.Unix(), i.Date.Format("-0700"))
}

// sortEntries orders a tree as git does: by name, directories as "name/".
func sortEntries(es []entry) []entry {
	out := append([]entry(nil), es...)
	key := func(e entry) string {
		if e.kind() == "tree" {
			return e.name + "/"
		}
		return e.name
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// put stores o in r and returns its SHA.
func (r *repo) put(o *object) string {
	sha := hashObject(o.kind, o.encode())
	if _, ok := r.objects[sha]; !ok {
		r.objects[sha] = o
	}
	return sha
}

// buildTree makes nested trees from slash-separated paths (GitHub's create
// tree does the same) and returns the root tree's SHA.
func (r *repo) buildTree(files map[string]entry) string {
	dirs := map[string][]entry{}
	for p, e := range files {
		dir, name := path.Split(p)
		e.name = name
		dirs[strings.TrimSuffix(dir, "/")] = append(dirs[strings.TrimSuffix(dir, "/")], e)
	}
	var build func(dir string) string
	build = func(dir string) string {
		es := append([]entry(nil), dirs[dir]...)
		subs := map[string]bool{}
		for d := range dirs {
			if d == "" || d == dir {
				continue
			}
			rel := d
			if dir != "" {
				if !strings.HasPrefix(d, dir+"/") {
					continue
				}
				rel = strings.TrimPrefix(d, dir+"/")
			}
			subs[strings.SplitN(rel, "/", 2)[0]] = true
		}
		for sub := range subs {
			full := sub
			if dir != "" {
				full = dir + "/" + sub
			}
			es = append(es, entry{mode: "040000", name: sub, sha: build(full)})
		}
		return r.put(&object{kind: "tree", tree: es})
	}
	return build("")
}

// flatten lists a tree's files by path, recursively.
func (r *repo) flatten(treeSHA, prefix string, out map[string]entry) {
	t, ok := r.objects[treeSHA]
	if !ok || t.kind != "tree" {
		return
	}
	for _, e := range t.tree {
		if e.kind() == "tree" {
			r.flatten(e.sha, prefix+e.name+"/", out)
			continue
		}
		out[prefix+e.name] = e
	}
}

func (r *repo) empty() bool { return len(r.refs) == 0 }

// gitEmpty is GitHub's answer to the Git database API on a repository
// without commits.
func gitEmpty() (int, any) { return http.StatusConflict, errBody("Git Repository is empty.") }

func (s *Server) createBlob(c *call) (int, any) {
	var in struct{ Content, Encoding string }
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if r.empty() {
		return gitEmpty()
	}
	data := []byte(in.Content)
	if in.Encoding == "base64" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(in.Content); err != nil {
			return http.StatusUnprocessableEntity, errBody("content is not valid Base64")
		}
	}
	sha := r.put(&object{kind: "blob", blob: data})
	return c.respond(s, http.StatusCreated, map[string]any{"sha": sha, "url": s.apiURL(r, "git/blobs/"+sha)})
}

func (s *Server) createTree(c *call) (int, any) {
	var in struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path, Mode, Type string
			SHA              *string
			Content          *string
		}
	}
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if r.empty() {
		return gitEmpty()
	}
	files := map[string]entry{}
	if in.BaseTree != "" {
		if t, ok := r.objects[in.BaseTree]; !ok || t.kind != "tree" {
			return http.StatusUnprocessableEntity, errBody("base_tree is not a valid tree oid")
		}
		r.flatten(in.BaseTree, "", files)
	}
	for _, te := range in.Tree {
		if te.Path == "" || strings.HasPrefix(te.Path, "/") || strings.Contains(te.Path, "//") {
			return http.StatusUnprocessableEntity, errBody("tree.path contains a malformed path component")
		}
		switch {
		case te.Content != nil:
			files[te.Path] = entry{mode: te.Mode, sha: r.put(&object{kind: "blob", blob: []byte(*te.Content)})}
		case te.SHA == nil:
			delete(files, te.Path)
		default:
			o, ok := r.objects[*te.SHA]
			if !ok || o.kind != te.Type || te.Type != "blob" {
				return http.StatusUnprocessableEntity, errBody(fmt.Sprintf("tree.sha %s is not a valid %s", *te.SHA, te.Type))
			}
			files[te.Path] = entry{mode: te.Mode, sha: *te.SHA}
		}
	}
	sha := r.buildTree(files)
	return c.respond(s, http.StatusCreated, s.treeJSON(r, sha))
}

func (s *Server) getTree(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if r.empty() {
		return gitEmpty()
	}
	if o, ok := r.objects[c.params["tree_sha"]]; !ok || o.kind != "tree" {
		return http.StatusNotFound, errBody("Not Found")
	}
	return c.respond(s, http.StatusOK, s.treeJSON(r, c.params["tree_sha"]))
}

func (s *Server) treeJSON(r *repo, sha string) map[string]any {
	var es []map[string]any
	for _, e := range sortEntries(r.objects[sha].tree) {
		m := map[string]any{"path": e.name, "mode": e.mode, "type": e.kind(), "sha": e.sha, "url": s.apiURL(r, "git/"+e.kind()+"s/"+e.sha)}
		if b := r.objects[e.sha]; b != nil && b.kind == "blob" {
			m["size"] = len(b.blob)
		}
		es = append(es, m)
	}
	return map[string]any{"sha": sha, "url": s.apiURL(r, "git/trees/"+sha), "tree": es, "truncated": false}
}
