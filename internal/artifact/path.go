package artifact

import (
	"strings"
	"unicode/utf8"

	"github.com/mlportal/mlportal/internal/fault"
)

// ReservedPrefix starts the names that stores keep for themselves (temporary
// files, digest records, staging objects). No element of a caller's path may
// start with it, so a store's own bookkeeping never collides with an artifact
// and never shows up in a listing.
const ReservedPrefix = ".mlportal-"

// Limits on a path, chosen so that every store accepts any valid path: S3
// keys are at most 1024 bytes and most filesystems cap a name at 255 bytes.
const (
	MaxPathBytes    = 1024
	MaxElementBytes = 255
)

// CleanPath checks that p names an object: a non-empty, relative,
// slash-separated path of UTF-8 elements, none of them empty, ".", ".." or
// starting with ReservedPrefix, with no backslash or NUL. It returns p
// unchanged when valid and a fault.ErrInvalid error naming the field "path"
// otherwise. It never rewrites a bad path into a good one: "a//b" is refused,
// not turned into "a/b", so two spellings never name one object.
func CleanPath(p string) (string, error) {
	if reason := pathProblem(p); reason != "" {
		return "", fault.Invalid("artifact path "+quote(p)+" is not valid", fault.Field("path", "%s", reason))
	}
	return p, nil
}

// CleanDir is CleanPath for a directory argument (List): "" means the root
// and is valid; anything else must be a valid path.
func CleanDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	return CleanPath(dir)
}

func pathProblem(p string) string {
	switch {
	case p == "":
		return "must not be empty"
	case len(p) > MaxPathBytes:
		return "must be at most 1024 bytes long"
	case !utf8.ValidString(p):
		return "must be valid UTF-8"
	case strings.HasPrefix(p, "/"):
		return "must be relative (not start with '/')"
	case strings.ContainsRune(p, '\\'):
		return "must use '/' as the separator, not '\\'"
	case strings.ContainsRune(p, 0):
		return "must not contain a NUL byte"
	}
	for e := range strings.SplitSeq(p, "/") {
		switch {
		case e == "":
			return "must not contain empty elements ('//' or a trailing '/')"
		case e == "." || e == "..":
			return "must not contain '.' or '..' elements"
		case len(e) > MaxElementBytes:
			return "each element must be at most 255 bytes long"
		case strings.HasPrefix(e, ReservedPrefix):
			return "elements must not start with " + quote(ReservedPrefix) + " (reserved for the store)"
		}
	}
	return ""
}

// quote quotes s for a message, shortening very long paths.
func quote(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(`"`+strings.ReplaceAll(s, "\x00", `\0`)+`"`, "?")
}
