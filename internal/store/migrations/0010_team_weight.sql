-- mlportal schema v10: a team's fair-share weight (internal/team), which the
-- scheduler divides a borrowing team's dominant share by. Teams recorded by
-- v9 get weight 1, an ordinary team's.
ALTER TABLE teams ADD COLUMN fair_share_weight DOUBLE PRECISION NOT NULL DEFAULT 1;
