package models

import (
	"context"
	"time"
)

// WarmFacts follows the change log from its current end and reads the
// artifacts of every model version created or changed, so the facts
// cache is filled when a version is registered rather than when it is
// first listed. It returns when ctx is done. Several replicas may run it:
// caching the same facts twice is harmless.
func (s *Service) WarmFacts(ctx context.Context, log ChangeLog) {
	var seq int64
	for { // start after what exists now: older versions are filled on first read
		cs, err := log.ChangesAfter(ctx, seq, ChangesMax)
		if err != nil {
			if !s.pause(ctx, err) {
				return
			}
			continue
		}
		if len(cs) == 0 {
			break
		}
		seq = cs[len(cs)-1].Seq
	}
	feed := NewFeed(log, 0)
	for {
		cs, err := feed.follow(ctx, seq, MaxWait)
		if err != nil {
			if !s.pause(ctx, err) {
				return
			}
			continue
		}
		for _, c := range cs {
			seq = c.Seq
			if c.Kind != ChangeModelVersion || c.Op != OpUpsert {
				continue
			}
			mv, err := s.Registry.GetModelVersion(ctx, c.Name, c.Version)
			if err != nil {
				continue // deleted meanwhile, or renamed: read on first listing
			}
			key := VersionKey{mv.Name, mv.Version}
			if have, err := s.Facts.ModelFacts(ctx, []VersionKey{key}); err != nil || len(have) > 0 {
				continue
			}
			if f, cache := s.readFacts(ctx, mv); cache {
				if err := s.Facts.PutModelFacts(ctx, f); err != nil && ctx.Err() == nil {
					s.Log.Warn("cache model version facts", "model", mv.Name, "version", mv.Version, "err", err)
				}
			}
		}
	}
}

// pause logs err and waits a little; false when ctx is done.
func (s *Service) pause(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	s.Log.Warn("follow the change log to cache model facts", "err", err)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
