-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- Restore-watch runs (linkq watch): a passive run around a restore
-- command on one device and port. It sends no probe and earns no
-- qualification verdict (verdict stays NULL); its outcome is the
-- command's: 'ok' (exit status 0), 'failed' (another status or a
-- signal), or NULL when the client went away without saying how it
-- ended (state 'interrupted'). percent and step are the last progress
-- and operation the command printed, which is what tells one failure
-- point from another; link_events counts the link faults on the port
-- during the watch, mode changes and the re-enumerations that come
-- with them left out. kind keeps these runs out of everything that
-- counts qualification runs. Plain ADD COLUMN: an old database keeps
-- every row, its runs become 'qualify' runs.

ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'qualify'
    CHECK (kind IN ('qualify', 'restore-watch'));
ALTER TABLE runs ADD COLUMN outcome TEXT
    CHECK (outcome IS NULL OR outcome IN ('ok', 'failed'));
ALTER TABLE runs ADD COLUMN exit_status INTEGER;
ALTER TABLE runs ADD COLUMN exit_signal INTEGER;
ALTER TABLE runs ADD COLUMN percent REAL
    CHECK (percent IS NULL OR (percent >= 0 AND percent <= 100));
ALTER TABLE runs ADD COLUMN step TEXT;
ALTER TABLE runs ADD COLUMN command TEXT;
ALTER TABLE runs ADD COLUMN link_events INTEGER
    CHECK (link_events IS NULL OR link_events >= 0);
CREATE INDEX runs_kind ON runs (kind, started_us);
