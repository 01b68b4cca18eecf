#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# GET /metrics (issue 17): after a FAIL on one port and cable (a -71 in
# the kernel's log during a wiggle run) and a PASS on another, the
# exposition passes a strict reader of the Prometheus text format and
# promtool (Debian's prometheus package, which scripts/deps installs),
# and says what happened: the FAIL cable's fail counter is 1, the PASS
# cable's pass counter 1, two devices attached, the link error counted
# on its port and cable as the database has it, and the probe
# histograms count every probe in the database. The reader itself
# refuses a sample without TYPE, a duplicate series, a bad escape and a
# counter without _total; promtool checks the example alerting rules.
# The loopback TCP listener of metrics-listen (port 0: the kernel's
# pick, which the log says) serves GET /metrics and the JSON GETs, and
# refuses any other method; a non-loopback address is refused at config
# time.

. "$(dirname "$0")/lib.sh"

cat > "$T/check.awk" <<'AWK'
function bad(why) {
	printf "line %d: %s: %s\n", NR, why, $0 > "/dev/stderr"
	failed = 1
	exit 1
}
# The family a sample name belongs to, given the TYPEs seen.
function family_of(name,   base) {
	if (name in type)
		return name
	if (match(name, /_(bucket|sum|count)$/)) {
		base = substr(name, 1, RSTART - 1)
		if (type[base] == "histogram" || type[base] == "summary")
			return base
	}
	return ""
}
# Parse the labels of a sample from s (after "{"); sets labels_key
# (sorted name=value list) and le; returns the rest after "}".
function parse_labels(s,   n, i, c, name, value, names, seen, k, tmp, j) {
	n = 0
	delete seen
	le = ""
	while (1) {
		if (substr(s, 1, 1) == "}")
			break
		if (!match(s, /^[a-zA-Z_][a-zA-Z0-9_]*="/))
			bad("bad label name")
		name = substr(s, 1, RLENGTH - 2)
		if (name in seen)
			bad("label " name " twice")
		seen[name] = 1
		s = substr(s, RLENGTH + 1)
		value = ""
		while (1) {
			c = substr(s, 1, 1)
			if (c == "")
				bad("unterminated label value")
			if (c == "\"")
				break
			if (c == "\\") {
				c = substr(s, 2, 1)
				if (c != "\\" && c != "\"" && c != "n")
					bad("bad escape \\" c)
				value = value "\\" c
				s = substr(s, 3)
				continue
			}
			value = value c
			s = substr(s, 2)
		}
		s = substr(s, 2)
		if (name == "le")
			le = value
		names[++n] = name "=" value
		c = substr(s, 1, 1)
		if (c == ",")
			s = substr(s, 2)
		else if (c != "}")
			bad("expected , or } after a label")
	}
	# Sort the labels (insertion sort) for the series key.
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
			tmp = names[j]; names[j] = names[j - 1]; names[j - 1] = tmp
		}
	labels_key = ""
	for (i = 1; i <= n; i++)
		labels_key = labels_key "," names[i]
	return substr(s, 2)
}
/^# HELP / {
	if (NF < 4) bad("HELP without text")
	if ($3 in help) bad("second HELP for " $3)
	help[$3] = 1
	next
}
/^# TYPE / {
	if (NF != 4) bad("malformed TYPE")
	if ($3 in type) bad("second TYPE for " $3)
	if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/)
		bad("unknown type " $4)
	if ($4 == "counter" && $3 !~ /_total$/)
		bad("counter " $3 " does not end in _total")
	if ($3 in done) bad("family " $3 " again after other families")
	type[$3] = $4
	if (current != "" && current != $3) done[current] = 1
	current = $3
	next
}
/^#/ { next }
/^$/ { bad("empty line") }
{
	if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/))
		bad("bad metric name")
	name = substr($0, 1, RLENGTH)
	rest = substr($0, RLENGTH + 1)
	fam = family_of(name)
	if (fam == "") bad("sample of " name " without a TYPE")
	if (fam != current) bad("sample of " fam " outside its group")
	labels_key = ""
	le = ""
	if (substr(rest, 1, 1) == "{")
		rest = parse_labels(substr(rest, 2))
	if (rest !~ /^ ([-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]Inf|NaN)( -?[0-9]+)?$/)
		bad("bad value")
	value = substr(rest, 2)
	sub(/ .*/, "", value)
	key = name "{" labels_key "}"
	if (key in series) bad("duplicate series " key)
	series[key] = value
	samples++
	if (type[fam] == "histogram" && name == fam "_bucket") {
		if (le == "") bad("bucket without le")
		k = fam "{" labels_key "}"
		sub(/,le=[^,}]*/, "", k)
		if ((k in lastbucket) && value + 0 < lastbucket[k] + 0)
			bad("buckets not cumulative")
		lastbucket[k] = value
		if (le == "+Inf") inf[k] = value
	}
	if (type[fam] == "histogram" && name == fam "_count") {
		k = fam "{" labels_key "}"
		if (!(k in inf) || inf[k] != value)
			bad("_count differs from the +Inf bucket")
	}
}
END {
	if (failed) exit 1
	if (samples == 0) { print "no samples" > "/dev/stderr"; exit 1 }
}
AWK

# Check the exposition in file $1 with the reader and with promtool.
check_metrics() {
	awk -f "$T/check.awk" "$1" || fail "not the text format: $1"
	promtool check metrics < "$1" || fail "promtool refuses the exposition"
}

trace "the reader refuses what the format forbids"
printf '# HELP a_total x\n# TYPE a_total counter\na_total{x="1"} 3\n' \
    > "$T/good.prom"
awk -f "$T/check.awk" "$T/good.prom" || fail "the reader refuses good input"
for bad in 'a_total 3' \
    '# TYPE a_total counter\na_total{x="1"} 3\na_total{x="1"} 4' \
    '# TYPE a_total counter\na_total{x="\\q"} 3' \
    '# TYPE a_total counter\na_total{x="1} 3' \
    '# TYPE a counter\na 3'; do
	printf "$bad\n" > "$T/bad.prom"
	! awk -f "$T/check.awk" "$T/bad.prom" 2> /dev/null ||
	    fail "the reader takes: $(cat "$T/bad.prom")"
done

cat > "$T/bench.scn" <<'SCN'
device phone
device phone2
port a path=1-1
port b path=1-2
cable c1
cable c2
at 0s plug phone a c1
at 0s plug phone2 b c2
SCN

# A fixed cable on each port; quick kept short. No usbmon: its
# urb-error would race the kernel's -71 (035).
cat > "$T/linkqd.conf" <<'CONF'
[cables]
port 1-1 = F-01
port 1-2 = P-"2\

[profile quick]
duration = 3s
bulk = 4M

[verdict]
min-bulk = 4M
CONF
LINKQD_USBMON=$T/no-usbmon
LINKQD_DAEMON='metrics-listen = 127.0.0.1:0'

start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"

trace "a PASS on 1-2, a FAIL on 1-1"
id=$(start_run "$u2" quick)
expect_eq "$(wait_run "$id" | jq -r .verdict)" PASS "the quick run"
id=$(start_wiggle "$u1")
printf '%s\n' "3,900001,1,-;usb 1-1: device descriptor read/64, error -71" \
    " SUBSYSTEM=usb" " DEVICE=+usb:1-1" >> "$T/kmsg"
expect_eq "$(wait_run "$id" | jq -r .verdict)" FAIL "the wiggle run"

trace "the exposition over the socket"
curl -sS --unix-socket "$T/linkqd.sock" -D "$T/head" -o "$T/m.prom" \
    http://linkq/metrics || fail "no /metrics"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' \
    "$T/head" || fail "content type: $(cat "$T/head")"
check_metrics "$T/m.prom"
# The value of the series $1 (exactly as written) in $T/m.prom.
value() {
	S=$1 awk 'index($0, ENVIRON["S"] " ") == 1 { print $NF }' "$T/m.prom"
}
expect_eq "$(value 'linkq_runs_total{port="1-1",cable="F-01",verdict="fail"}')" \
    1 "the FAIL cable's fails"
expect_eq "$(value 'linkq_runs_total{port="1-1",cable="F-01",verdict="pass"}')" \
    0 "the FAIL cable's passes"
expect_eq "$(value 'linkq_runs_total{port="1-2",cable="P-\"2\\",verdict="pass"}')" \
    1 "the PASS cable's passes (its label escaped)"
expect_eq "$(value 'linkq_runs_total{port="1-2",cable="P-\"2\\",verdict="fail"}')" \
    0 "the PASS cable's fails"
expect_eq "$(value linkq_devices_attached)" 2 "devices attached"
expect_eq "$(value linkq_runs_active)" 0 "runs active"
expect_eq "$(value linkq_store_recording)" 1 "store recording"
expect_eq "$(value 'linkq_source_up{source="kmsg"}')" 1 "kmsg read"
expect_eq "$(value 'linkq_source_up{source="usbmon"}')" 0 "usbmon unread"
expect_eq "$(value 'linkq_source_up{source="usbmuxd"}')" 1 "usbmuxd source"
expect_eq "$(grep -c '^linkq_source_up{' "$T/m.prom")" \
    "$(get /v1/status | jq '.sources | length')" "a series per source"
expect_eq "$(value linkq_usbmuxd_connected)" 1 "usbmuxd connected"
expect_eq "$(value "linkq_build_info{version=\"$(get /v1/status | jq -r .version)\"}")" \
    1 "build info"

# Probes and link errors as the database holds them, once committed:
# a probe cut at the run's end may still come back.
probes_db() {
	sql "SELECT count(*) FROM probes"
}
probes_metric() {
	curl -sS --unix-socket "$T/linkqd.sock" http://linkq/metrics |
	    awk '/^linkq_probe_duration_seconds_count/ { n += $NF } END { print n + 0 }'
}
wait_for '[ "$(probes_metric)" = "$(probes_db)" ]' 10 ||
    fail "histogram counts $(probes_metric) probes, the database $(probes_db)"
[ "$(probes_db)" -gt 0 ] || fail "no probes at all"
links_db=$(sql "SELECT count(*) FROM events e JOIN attachments a ON a.id = e.attachment_id JOIN cables c ON c.id = a.cable_id WHERE e.kind = 'link-error' AND c.label = 'F-01'")
[ "$links_db" -ge 1 ] || fail "no link-error event in the database"
curl -sS --unix-socket "$T/linkqd.sock" -o "$T/m.prom" http://linkq/metrics
expect_eq "$(value 'linkq_events_total{port="1-1",cable="F-01",kind="link-error"}')" \
    "$links_db" "link errors of F-01"
expect_eq "$(value 'linkq_events_total{port="1-2",cable="P-\"2\\",kind="link-error"}')" \
    0 "link errors of the PASS cable"

trace "the examples use only these metrics"
ex=$LQ_TOP/examples
jq -e '.panels | length > 0' "$ex/linkq-grafana.json" > /dev/null ||
    fail "linkq-grafana.json is not a dashboard"
promtool check rules "$ex/linkq-alerts.yml" > "$T/rules.out" 2>&1 ||
    fail "promtool refuses linkq-alerts.yml: $(cat "$T/rules.out")"
{
	jq -r '.. | .expr? // empty' "$ex/linkq-grafana.json"
	sed -n 's/^ *expr: *//p; /^ *expr: *>/,/^ *[a-z]*:/p' \
	    "$ex/linkq-alerts.yml"
} | grep -o '[a-z_]*linkq_[a-z_]*\|process_[a-z_]*' |
    sed 's/_\(bucket\|sum\|count\)$//' | sort -u > "$T/names"
[ "$(wc -l < "$T/names")" -ge 10 ] || fail "few names: $(cat "$T/names")"
while read -r name; do
	grep -q "^# TYPE $name " "$T/m.prom" ||
	    fail "the examples use $name, which /metrics does not have"
done < "$T/names"

trace "the TCP listener: read-only, loopback only"
port=$(sed -n 's/.*metrics: read-only HTTP on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' \
    "$T/linkqd.err" | tail -n 1)
[ -n "$port" ] || fail "no TCP port in the log: $(tail -n 20 "$T/linkqd.err")"
curl -sS -o "$T/tcp.prom" -w '%{http_code}' "http://127.0.0.1:$port/metrics" \
    > "$T/code"
expect_eq "$(cat "$T/code")" 200 "GET /metrics over TCP"
check_metrics "$T/tcp.prom"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$port/metrics")" \
    200 "HEAD /metrics over TCP"
expect_eq "$(curl -sS "http://127.0.0.1:$port/v1/status" | jq -r .devices_attached)" \
    2 "GET /v1/status over TCP"
curl -sS -o "$T/post" -w '%{http_code}' -X POST -d '{}' \
    "http://127.0.0.1:$port/v1/runs" > "$T/code"
expect_eq "$(cat "$T/code")" 403 "POST over TCP"
jq -e '.error.status == 403 and (.error.message | test("read-only.*control socket"))' \
    "$T/post" > /dev/null || fail "the refusal: $(cat "$T/post")"
expect_eq "$(sql 'SELECT count(*) FROM runs')" 2 "runs after the refused POST"

trace "a new metrics-listen at SIGHUP waits for the next start"
sed -i 's/^metrics-listen = .*/metrics-listen = 127.0.0.2:0/' \
    "$T/linkqd-run.conf"
kill -HUP "$LINKQD_PID"
wait_for "grep -q 'reload: .*metrics-listen takes effect at the next start' '$T/linkqd.err'" 10 ||
    fail "no word of the new listener: $(tail -n 5 "$T/linkqd.err")"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" \
    200 "the listener after SIGHUP"

trace "a listener off this host is refused at config time"
printf '[daemon]\nmetrics-listen = 192.168.1.10:9477\n' > "$T/remote.conf"
rc=0
"$BUILD/linkqd" -n -f "$T/remote.conf" 2> "$T/n.err" || rc=$?
expect_eq "$rc" 1 "linkqd -n with a remote address"
grep -q 'metrics-listen: invalid value .192.168.1.10:9477.: not a loopback address' \
    "$T/n.err" || fail "the message: $(cat "$T/n.err")"
printf '[daemon]\nmetrics-listen = [::1]:9477\n' > "$T/v6.conf"
"$BUILD/linkqd" -n -f "$T/v6.conf" 2> "$T/n.err" ||
    fail "[::1] refused: $(cat "$T/n.err")"

trace "after a restart: runs from the database, events from 0"
stop_linkqd
rm -f "$T/linkqd.sock"
start_linkqd "$T/linkqd.conf"
curl -sS --unix-socket "$T/linkqd.sock" -o "$T/m.prom" http://linkq/metrics
check_metrics "$T/m.prom"
expect_eq "$(value 'linkq_runs_total{port="1-1",cable="F-01",verdict="fail"}')" \
    1 "the FAIL cable's fails after a restart"
expect_eq "$(value 'linkq_runs_total{port="1-2",cable="P-\"2\\",verdict="pass"}')" \
    1 "the PASS cable's passes after a restart"
expect_eq "$(value 'linkq_events_total{port="1-1",cable="F-01",kind="link-error"}')" \
    0 "link errors after a restart"

stop_linkqd
stop_sim
