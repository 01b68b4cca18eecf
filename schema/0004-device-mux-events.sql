-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- The phone's own USB mux counters, read from its syslog during a run
-- (daemon/devlog.h): recorded, not judged, hence info (common/vocab.c
-- says why).

INSERT INTO event_kinds (name, class, description) VALUES
	('device-mux-stats', 'info',
	    'the device''s own USB mux counters, from its syslog'),
	('device-mux-errors', 'info',
	    'the device''s USB mux counted errors or duplicate packets');
