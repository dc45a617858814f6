package config

import "strings"

// suggest returns the known key closest to an unknown one, or "" if none is
// close enough. Case, "_" and "-" are ignored, so "base_url" and "baseURL"
// both suggest "baseUrl".
func suggest(key string, known []string) string {
	k := normalizeKey(key)
	best, bestDist := "", -1
	for _, c := range known {
		n := normalizeKey(c)
		d := levenshtein(k, n)
		if d > 2*max(len(k), len(n))/3 {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func normalizeKey(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b)) // not worth a suggestion; keeps fuzzing cheap
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
