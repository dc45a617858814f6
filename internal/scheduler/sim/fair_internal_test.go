package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFairShares checks the weighted max-min water-filling behind the
// fairness index.
func TestFairShares(t *testing.T) {
	for _, c := range []struct {
		name     string
		capacity int
		demand   []float64
		weight   []float64
		want     []float64
	}{
		{"all demands fit", 100, []float64{10, 20, 0}, []float64{1, 1, 1}, []float64{10, 20, 0}},
		{"equal split", 90, []float64{100, 100, 100}, []float64{1, 1, 1}, []float64{30, 30, 30}},
		{"small demand frees the rest", 90, []float64{10, 100, 100}, []float64{1, 1, 1}, []float64{10, 40, 40}},
		{"weights", 90, []float64{100, 100}, []float64{2, 1}, []float64{60, 30}},
		{"weighted with a small demand", 100, []float64{10, 100, 100}, []float64{1, 3, 1}, []float64{10, 67.5, 22.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &engine{capacity: c.capacity, teamDemand: c.demand, teamWeight: c.weight, teamNames: make([]string, len(c.demand))}
			if diff := cmp.Diff(c.want, e.fairShares()); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}
