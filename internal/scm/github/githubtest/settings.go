package githubtest

import (
	"encoding/base64"
	"net/http"
	"time"
)

// commitFiles commits files on branch (on top of its head, if any) as
// GitHub does for the contents API and auto_init. The caller holds s.mu.
func (s *Server) commitFiles(r *repo, files map[string][]byte, who ident, message, branch string) string {
	entries := map[string]entry{}
	for p, b := range files {
		entries[p] = entry{mode: "100644", sha: r.put(&object{kind: "blob", blob: b})}
	}
	ref := "refs/heads/" + branch
	var parents []string
	if head, ok := r.refs[ref]; ok {
		parents = []string{head}
		old := map[string]entry{}
		r.flatten(r.objects[head].commit.tree, "", old)
		for p, e := range entries {
			old[p] = e
		}
		entries = old
	}
	tree := r.buildTree(entries)
	sha := r.put(&object{kind: "commit", commit: &commitObj{tree: tree, parents: parents, author: who, committer: who, message: message}})
	r.refs[ref] = sha
	return sha
}

func (s *Server) putContents(c *call) (int, any) {
	var in struct {
		Message, Content, Branch, SHA string
		Author, Committer             *identIn
	}
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	data, err := base64.StdEncoding.DecodeString(in.Content)
	if err != nil {
		return http.StatusUnprocessableEntity, errBody("content is not valid Base64")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	branch := in.Branch
	if branch == "" {
		branch = r.defaultBranch
	}
	path := c.params["path"]
	if head, ok := r.refs["refs/heads/"+branch]; ok && in.SHA == "" {
		files := map[string]entry{}
		r.flatten(r.objects[head].commit.tree, "", files)
		if _, exists := files[path]; exists {
			return http.StatusUnprocessableEntity, errBody(`Invalid request. "sha" wasn't supplied.`)
		}
	} else if !ok && !r.empty() {
		return http.StatusNotFound, errBody("Branch " + branch + " not found")
	}
	who, ok := s.ident(in.Committer, c.login)
	if in.Author != nil {
		who, ok = s.ident(in.Author, c.login)
	}
	if !ok {
		return http.StatusUnprocessableEntity, errBody("author.date is not a valid ISO 8601 time")
	}
	sha := s.commitFiles(r, map[string][]byte{path: data}, who, in.Message, branch)
	blob := hashObject("blob", data)
	commit := s.commitJSON(r, sha)
	return c.respond(s, http.StatusCreated, map[string]any{
		"content": map[string]any{"name": path, "path": path, "sha": blob, "size": len(data), "type": "file",
			"url": s.apiURL(r, "contents/"+path), "html_url": s.htmlURL(r) + "/blob/" + branch + "/" + path,
			"git_url": s.apiURL(r, "git/blobs/"+blob), "download_url": s.htmlURL(r) + "/raw/" + branch + "/" + path,
			"_links": map[string]any{"self": s.apiURL(r, "contents/"+path), "git": s.apiURL(r, "git/blobs/"+blob), "html": s.htmlURL(r) + "/blob/" + branch + "/" + path}},
		"commit": commit,
	})
}

func (s *Server) putProtection(c *call) (int, any) {
	var in map[string]any
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	branch := c.params["branch"]
	if _, ok := r.refs["refs/heads/"+branch]; !ok {
		return http.StatusNotFound, errBody("Branch not found")
	}
	force, _ := in["allow_force_pushes"].(bool)
	deletions, _ := in["allow_deletions"].(bool)
	admins, _ := in["enforce_admins"].(bool)
	r.protection[branch] = &protection{raw: in, allowForcePushes: force}
	url := s.apiURL(r, "branches/"+branch+"/protection")
	out := map[string]any{
		"url": url, "allow_force_pushes": map[string]any{"enabled": force}, "allow_deletions": map[string]any{"enabled": deletions},
		"enforce_admins":         map[string]any{"url": url + "/enforce_admins", "enabled": admins},
		"required_status_checks": omit{}, "restrictions": omit{}, "required_pull_request_reviews": omit{},
	}
	if rev, ok := in["required_pull_request_reviews"].(map[string]any); ok {
		n, _ := rev["required_approving_review_count"].(float64)
		out["required_pull_request_reviews"] = map[string]any{"url": url + "/required_pull_request_reviews",
			"required_approving_review_count": int(n), "dismiss_stale_reviews": rev["dismiss_stale_reviews"] == true,
			"require_code_owner_reviews": rev["require_code_owner_reviews"] == true, "dismissal_restrictions": omit{}}
	}
	return c.respond(s, http.StatusOK, out)
}

func (s *Server) putEnvironment(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	name := c.params["environment_name"]
	created, ok := r.environments[name]
	if !ok {
		created = s.clock.Now().UTC()
		r.environments[name] = created
	}
	return c.respond(s, http.StatusOK, map[string]any{
		"id": r.id*1000 + int64(len(r.environments)), "node_id": nodeID("E", name), "name": name,
		"url": s.apiURL(r, "environments/"+name), "html_url": s.htmlURL(r) + "/deployments/activity_log?environments_filter=" + name,
		"created_at": created.Format(time.RFC3339), "updated_at": s.clock.Now().UTC().Format(time.RFC3339),
		"protection_rules": []any{}, "deployment_branch_policy": nil,
	})
}

func (s *Server) createVariable(c *call) (int, any) {
	var in struct{ Name, Value string }
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if _, ok := r.variables[in.Name]; ok {
		return http.StatusConflict, errBody("Already exists - Variable already exists")
	}
	r.variables[in.Name] = in.Value
	return c.respond(s, http.StatusCreated, nil)
}

func (s *Server) updateVariable(c *call) (int, any) {
	var in struct{ Name, Value *string }
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	name := c.params["name"]
	if _, ok := r.variables[name]; !ok {
		return http.StatusNotFound, errBody("Not Found")
	}
	if in.Value != nil {
		r.variables[name] = *in.Value
	}
	if in.Name != nil && *in.Name != name {
		r.variables[*in.Name] = r.variables[name]
		delete(r.variables, name)
	}
	return http.StatusNoContent, nil
}

func (s *Server) publicKey(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	return c.respond(s, http.StatusOK, map[string]any{"key_id": r.keyID, "key": base64.StdEncoding.EncodeToString(r.pub[:])})
}

func (s *Server) putSecret(c *call) (int, any) {
	var in struct {
		EncryptedValue string `json:"encrypted_value"`
		KeyID          string `json:"key_id"`
	}
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	raw, err := base64.StdEncoding.DecodeString(in.EncryptedValue)
	if err != nil {
		return http.StatusUnprocessableEntity, errBody("encrypted_value is not valid Base64")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if in.KeyID != r.keyID {
		return http.StatusUnprocessableEntity, errBody("Bad request: key_id is not the repository's current public key")
	}
	name := c.params["secret_name"]
	_, existed := r.secrets[name]
	r.secrets[name] = secret{keyID: in.KeyID, encrypted: raw}
	if existed {
		return http.StatusNoContent, nil
	}
	return c.respond(s, http.StatusCreated, nil)
}

func (s *Server) authenticatedUser(c *call) (int, any) {
	return c.respond(s, http.StatusOK, map[string]any{"login": c.login, "type": "User"})
}
