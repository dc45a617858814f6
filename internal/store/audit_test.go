package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/audit"
)

// auditTargets include LIKE's metacharacters (`_`, `%`, `\`) and near misses
// that would match a prefix filter that did not escape them.
var auditTargets = []string{
	"teams/ml-research", "teams/vision/members", "Teams/ml-research", "teamsx/ml-research",
	"team_a/1", "teamxa/1", "100%/x", "100abc/x", `c\d/1`, "cd/1", "tokens/tok_01",
}

// appendEvents stores n events one second apart, oldest first, and returns
// them as the store keeps them.
func appendEvents(t *testing.T, s *Store, n int) []audit.Event {
	t.Helper()
	actors := []string{"user:default/alice", "user:default/bob", "token:tok_01"}
	actions := []string{"team.create", "team.update", "team.delete", "token.create"}
	outcomes := []audit.Outcome{audit.OutcomeSuccess, audit.OutcomeDenied, audit.OutcomeInvalid, audit.OutcomeFailed}
	events := make([]audit.Event, n)
	for i := range events {
		at := base.Add(time.Duration(i) * time.Second)
		e := audit.Event{
			ID:        audit.NewID(at),
			Time:      at,
			Actor:     actors[i%len(actors)],
			Action:    actions[i%len(actions)],
			Target:    auditTargets[i%len(auditTargets)],
			Outcome:   outcomes[i%len(outcomes)],
			Status:    200 + i,
			RequestID: fmt.Sprintf("req-%03d", i/2),
			Method:    "POST",
			Path:      "/api/v1/" + auditTargets[i%len(auditTargets)],
			Reason:    strings.Repeat("x", i%3),
		}
		if err := s.AppendEvent(t.Context(), e); err != nil {
			t.Fatalf("AppendEvent #%d: %v", i, err)
		}
		e.Time = us(e.Time)
		events[i] = e
	}
	return events
}

// matches is the reference semantics of audit.Filter.
func matches(f audit.Filter, e audit.Event) bool {
	target := e.Target == f.Target
	if p, ok := strings.CutSuffix(f.Target, "*"); ok {
		target = strings.HasPrefix(e.Target, p)
	}
	return (f.Actor == "" || e.Actor == f.Actor) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.Target == "" || target) &&
		(f.Outcome == "" || e.Outcome == f.Outcome) &&
		(f.RequestID == "" || e.RequestID == f.RequestID) &&
		(f.Since.IsZero() || !e.Time.Before(us(f.Since))) &&
		(f.Until.IsZero() || e.Time.Before(us(f.Until)))
}

// newestFirst returns the events matching f, newest first.
func newestFirst(events []audit.Event, f audit.Filter) []audit.Event {
	out := []audit.Event{}
	for _, e := range slices.Backward(events) {
		if matches(f, e) {
			out = append(out, e)
		}
	}
	return out
}

func ids(es []audit.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestListEventsPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		events := appendEvents(t, s, 300)
		for _, tc := range []struct {
			name  string
			f     audit.Filter
			limit int
		}{
			{"all", audit.Filter{}, 7},
			{"one actor", audit.Filter{Actor: "user:default/bob"}, 9},
			{"prefix", audit.Filter{Target: "teams/*"}, 10},
		} {
			want := newestFirst(events, tc.f)
			var got []audit.Event
			before := ""
			for range len(events) {
				page, err := s.ListEvents(t.Context(), tc.f, before, tc.limit)
				if err != nil {
					t.Fatalf("%s: ListEvents(before %q): %v", tc.name, before, err)
				}
				if len(page) > tc.limit {
					t.Fatalf("%s: ListEvents returned %d events, limit %d", tc.name, len(page), tc.limit)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				before = page[len(page)-1].ID
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: pages (-want +got):\n%s", tc.name, diff)
			}
		}
	})
}

func TestListEventsFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		events := appendEvents(t, s, 300)
		at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
		for _, tc := range []struct {
			name string
			f    audit.Filter
			want int // matching events, to keep the table honest
		}{
			{"actor", audit.Filter{Actor: "token:tok_01"}, 100},
			{"action", audit.Filter{Action: "team.delete"}, 75},
			{"exact target", audit.Filter{Target: "teams/ml-research"}, 28},
			{"exact target is not a prefix", audit.Filter{Target: "teams/"}, 0},
			{"prefix", audit.Filter{Target: "teams/*"}, 56},
			{"prefix is case-sensitive", audit.Filter{Target: "Teams/*"}, 28},
			{"underscore is literal", audit.Filter{Target: "team_a/*"}, 27},
			{"percent is literal", audit.Filter{Target: "100%/*"}, 27},
			{"backslash is literal", audit.Filter{Target: `c\d/*`}, 27},
			{"bare star is everything", audit.Filter{Target: "*"}, 300},
			{"outcome", audit.Filter{Outcome: audit.OutcomeDenied}, 75},
			{"request id", audit.Filter{RequestID: "req-042"}, 2},
			{"since", audit.Filter{Since: at(250)}, 50},
			{"until", audit.Filter{Until: at(10)}, 10},
			{"since and until", audit.Filter{Since: at(100), Until: at(200)}, 100},
			{"since between events", audit.Filter{Since: at(299).Add(-time.Millisecond)}, 1},
			{"combined", audit.Filter{Actor: "user:default/alice", Target: "teams/*", Outcome: audit.OutcomeSuccess, Since: at(30)}, 4},
			{"combined hit", audit.Filter{Actor: "user:default/bob", Action: "team.update", Until: at(100)}, 9},
			{"no match", audit.Filter{Actor: "user:default/nobody"}, 0},
		} {
			want := newestFirst(events, tc.f)
			if len(want) != tc.want {
				t.Fatalf("%s: the reference filter matches %d events, the table says %d", tc.name, len(want), tc.want)
			}
			got, err := s.ListEvents(t.Context(), tc.f, "", 1000)
			if err != nil {
				t.Fatalf("%s: ListEvents: %v", tc.name, err)
			}
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
				t.Errorf("%s: ListEvents ids (-want +got):\n%s", tc.name, diff)
			}
		}
	})
}
