package githubtest

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// handlers are the operations the stand-in implements, by operationId in
// GitHub's description. Any other operation in the description gets 501.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"users/get-authenticated":              s.authenticatedUser,
		"orgs/get":                             s.getOrg,
		"repos/create-in-org":                  s.createRepo,
		"repos/get":                            s.getRepo,
		"repos/update":                         s.updateRepo,
		"repos/delete":                         s.deleteRepo,
		"repos/get-all-topics":                 s.topics,
		"repos/replace-all-topics":             s.topics,
		"repos/create-or-update-file-contents": s.putContents,
		"repos/update-branch-protection":       s.putProtection,
		"repos/create-or-update-environment":   s.putEnvironment,
		"actions/create-repo-variable":         s.createVariable,
		"actions/update-repo-variable":         s.updateVariable,
		"actions/get-repo-public-key":          s.publicKey,
		"actions/create-or-update-repo-secret": s.putSecret,
		"git/create-blob":                      s.createBlob,
		"git/create-tree":                      s.createTree,
		"git/get-tree":                         s.getTree,
		"git/create-commit":                    s.createCommit,
		"git/get-commit":                       s.getCommit,
		"git/create-ref":                       s.createRef,
		"git/get-ref":                          s.getRef,
		"git/update-ref":                       s.updateRef,
	}
}

// File is a file in a commit's tree.
type File struct {
	Mode    string // 100644, or 100755 for executables
	Content []byte
}

// Commit is a commit as stored.
type Commit struct {
	SHA, Tree, Message string
	Parents            []string
	AuthorName         string
	AuthorEmail        string
	AuthorDate         time.Time
	CommitterName      string
	CommitterEmail     string
}

// Repo is a snapshot of a repository's state.
type Repo struct {
	Owner, Name, Description string
	Private                  bool
	DefaultBranch            string
	Topics                   []string
	Refs                     map[string]string         // full ref name → commit SHA
	Protection               map[string]map[string]any // branch → the protection request as sent
	Environments             []string
	Variables                map[string]string
	Secrets                  []string // names; see Secret for the values
	Objects                  int      // git objects stored (blobs, trees, commits)
}

// AddOrg adds an organisation.
func (s *Server) AddOrg(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addOrg(login)
}

// AddRepo makes a repository that mlportal did not make: files committed to
// main by someone else, with the given topics.
func (s *Server) AddRepo(owner, name string, files map[string][]byte, topics ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs[strings.ToLower(owner)] == nil {
		s.addOrg(owner)
	}
	r := s.newRepo(owner, name, "someone else's repository", true)
	r.topics = append([]string{}, topics...)
	if len(files) > 0 {
		s.commitFiles(r, files, ident{Name: "Someone Else", Email: "someone@example.com", Date: s.clock.Now().UTC()}, "their work", r.defaultBranch)
	}
}

// Repo returns a snapshot of owner/name.
func (s *Server) Repo(owner, name string) (Repo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+name)]
	if r == nil {
		return Repo{}, false
	}
	out := Repo{
		Owner: r.owner, Name: r.name, Description: r.description, Private: r.private, DefaultBranch: r.defaultBranch,
		Topics: slices.Clone(r.topics), Refs: maps.Clone(r.refs), Protection: map[string]map[string]any{},
		Environments: slices.Sorted(maps.Keys(r.environments)), Variables: maps.Clone(r.variables),
		Secrets: slices.Sorted(maps.Keys(r.secrets)), Objects: len(r.objects),
	}
	for b, p := range r.protection {
		out.Protection[b] = p.raw
	}
	return out, true
}

// Commit returns a commit of owner/name.
func (s *Server) Commit(owner, name, sha string) (Commit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+name)]
	if r == nil || r.objects[sha] == nil || r.objects[sha].kind != "commit" {
		return Commit{}, false
	}
	c := r.objects[sha].commit
	return Commit{SHA: sha, Tree: c.tree, Message: c.message, Parents: slices.Clone(c.parents),
		AuthorName: c.author.Name, AuthorEmail: c.author.Email, AuthorDate: c.author.Date,
		CommitterName: c.committer.Name, CommitterEmail: c.committer.Email}, true
}

// Files returns the files of a commit's tree, by path.
func (s *Server) Files(owner, name, commit string) map[string]File {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+name)]
	if r == nil || r.objects[commit] == nil || r.objects[commit].kind != "commit" {
		return nil
	}
	es := map[string]entry{}
	r.flatten(r.objects[commit].commit.tree, "", es)
	out := map[string]File{}
	for p, e := range es {
		out[p] = File{Mode: e.mode, Content: slices.Clone(r.objects[e.sha].blob)}
	}
	return out
}

// Secret returns a secret as stored: the sealed box and the key id it names.
func (s *Server) Secret(owner, name, secret string) (sealed []byte, keyID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+name)]
	if r == nil {
		return nil, "", false
	}
	sec, ok := r.secrets[secret]
	return slices.Clone(sec.encrypted), sec.keyID, ok
}

// RepoKey returns the key pair of owner/name's Actions secrets, so a test can
// open what was sealed with the public key.
func (s *Server) RepoKey(owner, name string) (keyID string, public, private *[32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+name)]
	if r == nil {
		return "", nil, nil
	}
	return r.keyID, r.pub, r.priv
}
