package githubtest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

type org struct {
	id    int64
	login string
}

type repo struct {
	id                       int64
	owner, name, description string
	private                  bool
	defaultBranch            string
	created                  time.Time
	topics                   []string
	objects                  map[string]*object
	refs                     map[string]string // full ref name → commit
	protection               map[string]*protection
	environments             map[string]time.Time
	variables                map[string]string
	secrets                  map[string]secret
	keyID                    string
	pub, priv                *[32]byte
}

type protection struct {
	raw              map[string]any // the request, as sent
	allowForcePushes bool
}

type secret struct {
	keyID     string
	encrypted []byte
}

// omit in respond's fields deletes the example's key.
type omit struct{}

func (s *Server) addOrg(login string) {
	s.nextID++
	s.orgs[strings.ToLower(login)] = &org{id: s.nextID, login: login}
}

func (s *Server) newRepo(owner, name, description string, private bool) *repo {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		s.t.Fatalf("githubtest: repository key: %v", err)
	}
	s.nextID++
	r := &repo{
		id: s.nextID, owner: owner, name: name, description: description, private: private, defaultBranch: s.defaultBranch,
		created: s.clock.Now().UTC(), topics: []string{}, objects: map[string]*object{}, refs: map[string]string{},
		protection: map[string]*protection{}, environments: map[string]time.Time{}, variables: map[string]string{},
		secrets: map[string]secret{}, keyID: fmt.Sprintf("%d", 3380204578043523366+s.nextID), pub: pub, priv: priv,
	}
	s.repos[strings.ToLower(owner+"/"+name)] = r
	return r
}

// repoOf finds the call's repository; the caller holds s.mu.
func (s *Server) repoOf(c *call) (*repo, int, any) {
	r := s.repos[strings.ToLower(c.params["owner"]+"/"+c.params["repo"])]
	if r == nil {
		return nil, http.StatusNotFound, errBody("Not Found")
	}
	return r, 0, nil
}

func (s *Server) apiURL(r *repo, rest string) string {
	return strings.TrimSuffix(s.URL(), "/") + "/repos/" + r.owner + "/" + r.name + "/" + rest
}

func (s *Server) htmlURL(r *repo) string { return s.srv.URL + "/" + r.owner + "/" + r.name }

func nodeID(kind, key string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + key))
}

func (s *Server) repoJSON(r *repo) map[string]any {
	o := s.orgs[strings.ToLower(r.owner)]
	owner := map[string]any{"login": r.owner, "id": o.id, "node_id": nodeID("O", r.owner), "type": "Organization",
		"url": strings.TrimSuffix(s.URL(), "/") + "/users/" + r.owner, "html_url": s.srv.URL + "/" + r.owner}
	size := 0
	if !r.empty() {
		size = 1
	}
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	html := s.htmlURL(r)
	return map[string]any{
		"id": r.id, "node_id": nodeID("R", r.owner+"/"+r.name), "name": r.name, "full_name": r.owner + "/" + r.name,
		"owner": owner, "organization": owner, "private": r.private, "visibility": visibility, "description": r.description,
		"fork": false, "has_discussions": false, "url": strings.TrimSuffix(s.apiURL(r, ""), "/"), "html_url": html, "clone_url": html + ".git",
		"git_url": strings.Replace(html, "http", "git", 1) + ".git", "ssh_url": "git@" + strings.TrimPrefix(s.srv.URL, "http://") + ":" + r.owner + "/" + r.name + ".git",
		"svn_url": html, "homepage": nil, "default_branch": r.defaultBranch, "topics": r.topics, "size": size,
		"created_at": r.created.Format(time.RFC3339), "updated_at": r.created.Format(time.RFC3339), "pushed_at": r.created.Format(time.RFC3339),
		"archived": false, "disabled": false, "is_template": false, "forks_count": 0, "forks": 0, "stargazers_count": 0,
		"watchers_count": 0, "watchers": 0, "open_issues_count": 0, "open_issues": 0, "subscribers_count": 0, "network_count": 0,
		"license": nil, "language": nil, "mirror_url": nil, "template_repository": omit{}, "parent": omit{}, "source": omit{},
		"permissions": map[string]any{"admin": true, "maintain": true, "push": true, "triage": true, "pull": true},
	}
}

func (s *Server) getOrg(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[strings.ToLower(c.params["org"])]
	if o == nil {
		return http.StatusNotFound, errBody("Not Found")
	}
	return c.respond(s, http.StatusOK, map[string]any{"login": o.login, "id": o.id, "node_id": nodeID("O", o.login),
		"url": strings.TrimSuffix(s.URL(), "/") + "/orgs/" + o.login, "html_url": s.srv.URL + "/" + o.login})
}

func (s *Server) createRepo(c *call) (int, any) {
	var in struct {
		Name, Description, Visibility string
		Private                       bool
		AutoInit                      bool `json:"auto_init"`
	}
	if err := c.decode(&in); err != nil {
		return http.StatusBadRequest, errBody("Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[strings.ToLower(c.params["org"])]
	if o == nil {
		return http.StatusNotFound, errBody("Not Found")
	}
	if !validRepoName.MatchString(in.Name) {
		return http.StatusUnprocessableEntity, errFields("Repository creation failed.", "Repository", "name", "custom", "name is invalid")
	}
	if s.repos[strings.ToLower(o.login+"/"+in.Name)] != nil {
		return http.StatusUnprocessableEntity, errFields("Repository creation failed.", "Repository", "name", "custom", "name already exists on this account")
	}
	r := s.newRepo(o.login, in.Name, in.Description, in.Private || in.Visibility == "private")
	if in.AutoInit {
		s.commitFiles(r, map[string][]byte{"README.md": []byte("# " + in.Name + "\n")}, ident{Name: c.login, Email: c.login + "@users.noreply.github.com", Date: s.clock.Now().UTC()}, "Initial commit", r.defaultBranch)
	}
	return c.respond(s, http.StatusCreated, s.repoJSON(r))
}

var validRepoName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func (s *Server) getRepo(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	return c.respond(s, http.StatusOK, s.repoJSON(r))
}

func (s *Server) updateRepo(c *call) (int, any) {
	var in struct {
		Description   *string
		DefaultBranch *string `json:"default_branch"`
		Private       *bool
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
	if in.DefaultBranch != nil {
		if _, ok := r.refs["refs/heads/"+*in.DefaultBranch]; !ok {
			return http.StatusUnprocessableEntity, errFields("Validation Failed", "Repository", "default_branch", "invalid", "Cannot update default branch for an empty repository. Please init the repository and push first.")
		}
		r.defaultBranch = *in.DefaultBranch
	}
	if in.Description != nil {
		r.description = *in.Description
	}
	if in.Private != nil {
		r.private = *in.Private
	}
	return c.respond(s, http.StatusOK, s.repoJSON(r))
}

func (s *Server) deleteRepo(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	delete(s.repos, strings.ToLower(r.owner+"/"+r.name))
	return http.StatusNoContent, nil
}

var validTopic = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,49}$`)

func (s *Server) topics(c *call) (int, any) {
	var in struct{ Names []string }
	if c.r.Method == http.MethodPut {
		if err := c.decode(&in); err != nil {
			return http.StatusBadRequest, errBody("Problems parsing JSON")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, e := s.repoOf(c)
	if r == nil {
		return st, e
	}
	if c.r.Method == http.MethodPut {
		for _, n := range in.Names {
			if !validTopic.MatchString(n) {
				return http.StatusUnprocessableEntity, errFields("Validation Failed", "Repository", "topics", "invalid",
					n+" is not a valid topic. Topics must start with a lowercase letter or number, consist of 50 characters or less, and can include hyphens.")
			}
		}
		r.topics = append([]string{}, in.Names...)
	}
	return c.respond(s, http.StatusOK, map[string]any{"names": r.topics})
}
