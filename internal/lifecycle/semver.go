package lifecycle

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
)

// semverRE is Semantic Versioning 2.0.0's own regular expression.
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// version is a parsed semantic version; build metadata is dropped, as it
// does not take part in precedence.
type version struct {
	major, minor, patch uint64
	pre                 []string
}

func parseVersion(s string) (version, bool) {
	if len(s) > 128 {
		return version{}, false
	}
	m := semverRE.FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	var v version
	var err1, err2, err3 error
	v.major, err1 = strconv.ParseUint(m[1], 10, 64)
	v.minor, err2 = strconv.ParseUint(m[2], 10, 64)
	v.patch, err3 = strconv.ParseUint(m[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return version{}, false
	}
	if m[4] != "" {
		v.pre = strings.Split(m[4], ".")
	}
	return v, true
}

// compareVersions orders valid versions by semver precedence; invalid ones
// sort first, by text. "1.0.0" and "1.0.0+build" are equal.
func compareVersions(a, b string) int {
	va, okA := parseVersion(a)
	vb, okB := parseVersion(b)
	switch {
	case !okA || !okB:
		if okA != okB {
			if okA {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	}
	if c := cmp.Or(cmp.Compare(va.major, vb.major), cmp.Compare(va.minor, vb.minor), cmp.Compare(va.patch, vb.patch)); c != 0 {
		return c
	}
	// A pre-release has lower precedence than the release.
	switch {
	case len(va.pre) == 0 && len(vb.pre) == 0:
		return 0
	case len(va.pre) == 0:
		return 1
	case len(vb.pre) == 0:
		return -1
	}
	for i := 0; i < len(va.pre) && i < len(vb.pre); i++ {
		if c := comparePre(va.pre[i], vb.pre[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(va.pre), len(vb.pre))
}

// comparePre orders pre-release identifiers: numeric ones numerically and
// below alphanumeric ones, which compare as text.
func comparePre(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(na, nb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}
