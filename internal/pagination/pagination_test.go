package pagination

import (
	"errors"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
)

func TestRoundTripAndNext(t *testing.T) {
	key, err := Decode(Encode("team-42"))
	if err != nil || key != "team-42" {
		t.Fatalf("round trip: %q %v", key, err)
	}
	if _, err := Decode("not-a-token"); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("garbage token: %v", err)
	}
	keys := []string{"a", "b", "c", "d"}
	if n, next := Next(4, 3, func(i int) string { return keys[i] }); n != 3 || next != Encode("c") {
		t.Fatalf("Next with an extra row = %d %q", n, next)
	}
	if n, next := Next(3, 3, func(i int) string { return keys[i] }); n != 3 || next != "" {
		t.Fatalf("Next without one = %d %q", n, next)
	}
	bad := 0
	if _, err := Parse(&bad, nil); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("limit 0: %v", err)
	}
	if p, err := Parse(nil, nil); err != nil || p.Limit != DefaultLimit {
		t.Fatalf("defaults: %+v %v", p, err)
	}
}
