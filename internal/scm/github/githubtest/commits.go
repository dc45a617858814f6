package githubtest

import (
	"net/http"
	"strings"
	"time"
)

type identIn struct {
	Name, Email string
	Date        string
}

func (s *Server) ident(in *identIn, login string) (ident, bool) {
	if in == nil {
		return ident{Name: login, Email: login + "@users.noreply.github.com", Date: s.clock.Now().UTC()}, true
	}
	id := ident{Name: in.Name, Email: in.Email, Date: s.clock.Now().UTC()}
	if in.Date != "" {
		d, err := time.Parse(time.RFC3339, in.Date)
		if err != nil {
			return ident{}, false
		}
		id.Date = d
	}
	return id, true
}

func (s *Server) createCommit(c *call) (int, any) {
	var in struct {
		Message           string
		Tree              string
		Parents           []string
		Author, Committer *identIn
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
	if t, ok := r.objects[in.Tree]; !ok || t.kind != "tree" {
		return http.StatusUnprocessableEntity, errBody("Tree SHA does not exist")
	}
	for _, p := range in.Parents {
		if o, ok := r.objects[p]; !ok || o.kind != "commit" {
			return http.StatusUnprocessableEntity, errBody("Parent SHA does not exist or is not a commit object")
		}
	}
	author, ok := s.ident(in.Author, c.login)
	if !ok {
		return http.StatusUnprocessableEntity, errBody("author.date is not a valid ISO 8601 time")
	}
	committer := author
	if in.Committer != nil {
		if committer, ok = s.ident(in.Committer, c.login); !ok {
			return http.StatusUnprocessableEntity, errBody("committer.date is not a valid ISO 8601 time")
		}
	}
	sha := r.put(&object{kind: "commit", commit: &commitObj{tree: in.Tree, parents: in.Parents, author: author, committer: committer, message: in.Message}})
	return c.respond(s, http.StatusCreated, s.commitJSON(r, sha))
}

func (s *Server) getCommit(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if r.empty() {
		return gitEmpty()
	}
	if o, ok := r.objects[c.params["commit_sha"]]; !ok || o.kind != "commit" {
		return http.StatusNotFound, errBody("Not Found")
	}
	return c.respond(s, http.StatusOK, s.commitJSON(r, c.params["commit_sha"]))
}

func (s *Server) commitJSON(r *repo, sha string) map[string]any {
	cm := r.objects[sha].commit
	identJSON := func(i ident) map[string]any {
		return map[string]any{"name": i.Name, "email": i.Email, "date": i.Date.UTC().Format(time.RFC3339)}
	}
	parents := []map[string]any{}
	for _, p := range cm.parents {
		parents = append(parents, map[string]any{"sha": p, "url": s.apiURL(r, "git/commits/"+p), "html_url": s.htmlURL(r) + "/commit/" + p})
	}
	return map[string]any{
		"sha": sha, "node_id": nodeID("C", sha), "url": s.apiURL(r, "git/commits/"+sha), "html_url": s.htmlURL(r) + "/commit/" + sha,
		"author": identJSON(cm.author), "committer": identJSON(cm.committer), "message": cm.message,
		"tree":         map[string]any{"sha": cm.tree, "url": s.apiURL(r, "git/trees/"+cm.tree)},
		"parents":      parents,
		"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
	}
}

func (s *Server) refJSON(r *repo, name string) map[string]any {
	sha := r.refs[name]
	return map[string]any{
		"ref": name, "node_id": nodeID("REF", name), "url": s.apiURL(r, "git/"+name),
		"object": map[string]any{"type": "commit", "sha": sha, "url": s.apiURL(r, "git/commits/"+sha)},
	}
}

func (s *Server) getRef(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if r.empty() {
		return gitEmpty()
	}
	name := "refs/" + c.params["ref"]
	if _, ok := r.refs[name]; !ok {
		return http.StatusNotFound, errBody("Not Found")
	}
	return c.respond(s, http.StatusOK, s.refJSON(r, name))
}

func (s *Server) createRef(c *call) (int, any) {
	var in struct{ Ref, SHA string }
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
	if !strings.HasPrefix(in.Ref, "refs/") || strings.Count(in.Ref, "/") < 2 {
		return http.StatusUnprocessableEntity, errBody("Reference name must start with 'refs/' and have at least two slashes.")
	}
	if _, ok := r.refs[in.Ref]; ok {
		return http.StatusUnprocessableEntity, errBody("Reference already exists")
	}
	if o, ok := r.objects[in.SHA]; !ok || o.kind != "commit" {
		return http.StatusUnprocessableEntity, errBody("Object does not exist")
	}
	r.refs[in.Ref] = in.SHA
	return c.respond(s, http.StatusCreated, s.refJSON(r, in.Ref))
}

func (s *Server) updateRef(c *call) (int, any) {
	var in struct {
		SHA   string
		Force bool
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
	name := "refs/" + c.params["ref"]
	old, ok := r.refs[name]
	if !ok {
		return http.StatusUnprocessableEntity, errBody("Reference does not exist")
	}
	if o, ok := r.objects[in.SHA]; !ok || o.kind != "commit" {
		return http.StatusUnprocessableEntity, errBody("Object does not exist")
	}
	if !in.Force && !r.descends(in.SHA, old) {
		return http.StatusUnprocessableEntity, errBody("Update is not a fast forward")
	}
	if p := r.protection[strings.TrimPrefix(name, "refs/heads/")]; p != nil && in.Force && !p.allowForcePushes {
		return http.StatusUnprocessableEntity, errBody("Cannot force-push to this branch")
	}
	r.refs[name] = in.SHA
	return c.respond(s, http.StatusOK, s.refJSON(r, name))
}

// descends reports whether commit sha has ancestor anc (or is it).
func (r *repo) descends(sha, anc string) bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == anc {
			return true
		}
		if seen[cur] {
			continue
		}
		seen[cur] = true
		if o, ok := r.objects[cur]; ok && o.kind == "commit" {
			stack = append(stack, o.commit.parents...)
		}
	}
	return false
}
