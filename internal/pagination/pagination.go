// Package pagination encodes and decodes the opaque cursors of list
// endpoints (`pageToken` in, `nextPageToken` out). A cursor is the sort key of
// the last item returned, so pages stay stable while rows are added; it does
// not sign or encrypt the key, which is never secret.
package pagination

import (
	"encoding/base64"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

const prefix = "c1:"

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page asks for up to Limit items after the key After ("" = from the start).
type Page struct {
	After string
	Limit int
}

// Parse turns the request's limit and page token into a Page.
func Parse(limit *int, token *string) (Page, error) {
	p := Page{Limit: DefaultLimit}
	if limit != nil {
		if *limit < 1 || *limit > MaxLimit {
			return p, fault.Invalid("limit is out of range", fault.Field("limit", "must be between 1 and %d", MaxLimit))
		}
		p.Limit = *limit
	}
	if token != nil && *token != "" {
		after, err := Decode(*token)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	return p, nil
}

// Encode returns the cursor for a sort key.
func Encode(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + key))
}

// Decode returns the sort key of a cursor.
func Decode(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return "", fault.Invalid("pageToken is not a token this server issued",
			fault.Field("pageToken", "pass the nextPageToken of the previous page unchanged"))
	}
	return strings.TrimPrefix(string(b), prefix), nil
}

// Next returns the next page token given the keys of the items fetched with
// one extra row: if more than limit came back, the page is cut and the token
// points after its last item.
func Next(n, limit int, lastKey func(i int) string) (keep int, next string) {
	if n <= limit {
		return n, ""
	}
	return limit, Encode(lastKey(limit - 1))
}
