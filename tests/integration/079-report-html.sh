#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq report --html (issue 18, item 2): a PASS pair (A-01 on 1-1) and
# a FAIL pair (a corrupting cable on 1-2, its label and the port's full
# of HTML), then the page from linkqd and from --db. Headless Chromium
# loads it with no console message (a negative control shows that a
# blocked script or an error would be seen), and its DOM has the 2 x 2
# matrix: PASS and FAIL where they ran, "untested" across, each tested
# cell linking to a section that exists; the labels are text, not
# markup. The page fetches nothing and has no script. A screenshot is
# kept in $BUILD/tests/artefacts/079-report-html.png. The timeline
# route answers with bounded points and the run's events, 404 for a
# run never recorded and 400 for a bad id.

. "$(dirname "$0")/lib.sh"

command -v chromium > /dev/null 2>&1 ||
    fail "chromium is not installed (scripts/deps --install test)"

cat > "$T/bench.scn" <<'SCN'
device phone
device phone2
port a path=1-1
port b path=1-2
cable good
cable bad
at 0s plug phone a good
at 0s plug phone2 b bad
SCN
quick_conf "$T/linkqd.conf"
# Labels are user input: the page must show them as text.
BAD='B<i>&"02'\'
PORT2='rear<b>'

start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"

trace "a PASS on 1-1 with A-01, a FAIL on 1-2 with a corrupting cable"
lq cable 1-1 A-01
[ "$rc" = 0 ] || fail "cable A-01 refused: $(cat "$T/err")"
lq cable 1-2 "$BAD"
[ "$rc" = 0 ] || fail "cable $BAD refused: $(cat "$T/err")"
lq port 1-2 --label "$PORT2"
[ "$rc" = 0 ] || fail "port label refused: $(cat "$T/err")"
ctl '{"cmd":"fault","target":"bad","params":"corrupt-per-mb=2"}' > /dev/null
r1=$(start_run "$u1" quick)
r2=$(start_run "$u2" quick)
expect_eq "$(wait_run "$r1" | jq -r .verdict)" PASS "run $r1"
expect_eq "$(wait_run "$r2" | jq -r .verdict)" FAIL "run $r2"

trace "the timeline route"
get "/v1/runs/$r2/timeline" > "$T/tl.json"
jq -e --argjson r "$r2" '.run == $r and (.points | length) >= 1 and
    (.points | length) <= 600 and .bucket_ms >= 1000 and
    ([.points[] | select(.mb_s != null and .mb_s > 0)] | length) >= 1 and
    ([.events[] | select(.kind == "corruption")] | length) >= 1 and
    .events_total >= (.events | length)' "$T/tl.json" > /dev/null ||
    fail "timeline of run $r2: $(cat "$T/tl.json")"
api GET /v1/runs/99999/timeline | tail -n 1 | grep -qx 404 ||
    fail "timeline of a run never recorded is no 404"
api GET /v1/runs/x1/timeline | tail -n 1 | grep -qx 400 ||
    fail "timeline of a bad id is no 400"

trace "--html refuses what it cannot draw, and a path it cannot write"
lq report --html "$T/r.html" --csv
expect_eq "$rc" 2 "--html --csv"
lq report --html "$T/r.html" --by cable
expect_eq "$rc" 2 "--html --by cable"
lq report --html "$T/nosuch/r.html"
expect_eq "$rc" 2 "--html into a missing directory"
grep -q "cannot create it" "$T/err" || fail "no reason: $(cat "$T/err")"

trace "the page from linkqd and from the database"
lq report --html "$T/r.html"
[ "$rc" = 0 ] || fail "report --html: status $rc: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "report --html printed: $(cat "$T/out")"
lq report --html "$T/db.html" --db "$T/linkq.db"
[ "$rc" = 0 ] || fail "report --html --db: status $rc: $(cat "$T/err")"
for page in "$T/r.html" "$T/db.html"; do
	if grep -Eiq '<script|https?://|(src|href)="[^#]' "$page"; then
		fail "$page fetches or scripts: $(grep -Ei '<script|https?://|(src|href)="[^#]' "$page")"
	fi
	[ "$(grep -c '<svg class="chart"' "$page")" -ge 2 ] ||
	    fail "$page draws fewer than two timelines"
	grep -q "id=\"run-$r1\"" "$page" && grep -q "id=\"run-$r2\"" "$page" ||
	    fail "$page lacks a section of run $r1 or $r2"
done

# Chromium with its own profile and home in $T, killed if it hangs.
chrome() {
	HOME=$T/home timeout 120 chromium --headless --disable-gpu \
	    --no-sandbox --no-first-run --user-data-dir="$T/chrome" \
	    --enable-logging=stderr --v=0 "$@"
}

trace "the console detector sees a blocked script (negative control)"
{
	sed -n '1,/<\/head>/p' "$T/r.html"
	printf '<body><script>undefined_function();</script></body></html>\n'
} > "$T/bad.html"
chrome --dump-dom "file://$T/bad.html" > "$T/bad.dom" 2> "$T/bad.err" ||
    fail "chromium failed on the control page: $(tail -n 20 "$T/bad.err")"
grep -q CONSOLE "$T/bad.err" ||
    fail "a blocked script left no CONSOLE line: $(cat "$T/bad.err")"

trace "Chromium loads the page with no console message"
chrome --dump-dom "file://$T/r.html" > "$T/r.dom" 2> "$T/r.err" ||
    fail "chromium failed: $(tail -n 20 "$T/r.err")"
if grep CONSOLE "$T/r.err"; then
	fail "the page logged to the console"
fi
grep -q '</html>' "$T/r.dom" || fail "no DOM dumped: $(tail "$T/r.err")"

trace "the matrix: PASS and FAIL where they ran, untested across"
# One line per cell: verdict, cable and port as the DOM has them.
grep -o '<td class="v-[^"]*" data-verdict="[^"]*" data-cable="[^"]*" data-port="[^"]*"' \
    "$T/r.dom" | sed 's/.*data-verdict="\([^"]*\)" data-cable="\([^"]*\)" data-port="\([^"]*\)"/\1 \2 \3/' \
    > "$T/cells"
expect_eq "$(wc -l < "$T/cells" | tr -d ' ')" 4 "matrix cells: $(cat "$T/cells")"
grep -qx "PASS A-01 1-1" "$T/cells" || fail "no PASS A-01 on 1-1: $(cat "$T/cells")"
grep -Eqx "untested A-01 1-2" "$T/cells" ||
    fail "A-01 on 1-2 is not untested: $(cat "$T/cells")"
[ "$(grep -c '^FAIL B' "$T/cells")" = 1 ] && [ "$(grep -c '^FAIL .* 1-2$' "$T/cells")" = 1 ] ||
    fail "no FAIL of the bad cable on 1-2: $(cat "$T/cells")"
[ "$(grep -c '^untested B.* 1-1$' "$T/cells")" = 1 ] ||
    fail "the bad cable on 1-1 is not untested: $(cat "$T/cells")"
# The colours: each verdict's class has its background.
grep -q '\.v-PASS{background:#c8e6c9' "$T/r.html" &&
    grep -q '\.v-FAIL{background:#ffcdd2' "$T/r.html" ||
    fail "the verdict classes lost their colours"
# Every tested cell links to a section of the page.
grep -o '<td class="v-[A-Z]*"[^>]*><a href="#[^"]*"' "$T/r.dom" |
    sed 's/.*href="#//; s/"$//' > "$T/links"
expect_eq "$(wc -l < "$T/links" | tr -d ' ')" 2 "cell links"
while read -r id; do
	grep -q "<section class=\"cell\" id=\"$id\"" "$T/r.dom" ||
	    fail "cell link #$id leads nowhere"
done < "$T/links"

trace "labels are text, not markup"
grep -qF 'B&lt;i&gt;&amp;' "$T/r.dom" || fail "the cable label is not shown"
grep -qF 'rear&lt;b&gt;' "$T/r.dom" || fail "the port label is not shown"
# As markup the text after <i> would keep its quote raw, as an attribute
# (where some versions leave < unescaped) it is &quot;.
if grep -Eq '<i>&amp;"|<b>\)' "$T/r.dom"; then
	fail "a label became markup"
fi

trace "a screenshot as an artefact"
art=$BUILD/tests/artefacts
mkdir -p "$art"
rm -f "$art/079-report-html.png"
chrome --screenshot="$art/079-report-html.png" --window-size=1280,2000 \
    "file://$T/r.html" > "$T/shot.out" 2> "$T/shot.err" ||
    fail "no screenshot: $(tail -n 20 "$T/shot.err")"
[ -s "$art/079-report-html.png" ] || fail "the screenshot is empty"
expect_eq "$(head -c 8 "$art/079-report-html.png" | od -An -tx1 | tr -d ' \n')" \
    89504e470d0a1a0a "the screenshot's PNG signature"
