package github

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// tree is the first commit's tree, named as git names it, so the provider
// knows the SHAs GitHub will answer before asking.
type tree struct {
	sha   string
	blobs map[string][]byte // SHA → content, each distinct content once
	files []treeFile        // sorted by path
}

type treeFile struct{ path, mode, sha string }

// modeOf is the file's git mode: *.sh files are executable.
func modeOf(p string) string {
	if strings.HasSuffix(p, ".sh") {
		return "100755"
	}
	return "100644"
}

func buildTree(files map[string][]byte) tree {
	t := tree{blobs: map[string][]byte{}}
	// dir → its entries; directories become entries of their parent.
	dirs := map[string]map[string]treeFile{"": {}}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		sha := gitHash("blob", files[p])
		t.blobs[sha] = files[p]
		t.files = append(t.files, treeFile{path: p, mode: modeOf(p), sha: sha})
		dir, name := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		addDir(dirs, dir)
		dirs[dir][name] = treeFile{path: name, mode: modeOf(p), sha: sha}
	}
	t.sha = hashDir(dirs, "")
	return t
}

func addDir(dirs map[string]map[string]treeFile, dir string) {
	if _, ok := dirs[dir]; ok { // "" is always there
		return
	}
	dirs[dir] = map[string]treeFile{}
	parent, name := path.Split(dir)
	parent = strings.TrimSuffix(parent, "/")
	addDir(dirs, parent)
	dirs[parent][name] = treeFile{path: name, mode: "40000"}
}

// hashDir returns the SHA of dir's tree object: entries sorted as git sorts
// them (a directory as if its name ended in "/"), each "<mode> <name>\0<sha>".
func hashDir(dirs map[string]map[string]treeFile, dir string) string {
	entries := dirs[dir]
	key := func(e treeFile) string {
		if e.mode == "40000" {
			return e.path + "/"
		}
		return e.path
	}
	list := slices.SortedFunc(maps.Values(entries), func(a, b treeFile) int { return strings.Compare(key(a), key(b)) })
	var buf bytes.Buffer
	for _, e := range list {
		sha := e.sha
		if e.mode == "40000" {
			sha = hashDir(dirs, path.Join(dir, e.path))
		}
		raw, _ := hex.DecodeString(sha)
		fmt.Fprintf(&buf, "%s %s\x00", e.mode, e.path)
		buf.Write(raw)
	}
	return gitHash("tree", buf.Bytes())
}

func gitHash(kind string, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}
