-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- The trials of a run's sequential test, as linkqd counted them when it
-- decided the verdict: every probe, plus every chunk a bulk probe moved
-- (each is a transfer a bad link can drop). run_rollups count probe
-- results, one per bulk probe, so without this column a report that
-- decides again from the rollups would see far fewer trials than the
-- verdict did. NULL for runs recorded before it existed.
ALTER TABLE runs ADD COLUMN trials INTEGER CHECK (trials IS NULL OR
    trials >= 0);
