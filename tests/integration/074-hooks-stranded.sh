#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The stranded hook (linkq.conf(5), HOOKS), in linkq-sim's umockdev
# testbed where libusb sees the device: usbmuxd drops the device in the
# middle of a run and it stays on the bus; the run's end runs the fail
# hook, and the stranding 2 s later the stranded hook, with the run's
# id, verdict and cable and the reason to replug.

. "$(dirname "$0")/lib.sh"
require_umockdev
SIM_UMOCKDEV=1		# the simulator and linkqd share its testbed

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-4.2
cable good
at 0s plug phone a good
SCN

# The hook records its environment in $T/hook-EVENT-RUN.env.
cat > "$T/hook.sh" <<EOF
#!/bin/sh
env | sort > "$T/hook.tmp.\$\$"
mv "$T/hook.tmp.\$\$" "$T/hook-\$LINKQ_EVENT-\$LINKQ_RUN.env"
EOF
chmod +x "$T/hook.sh"

cat > "$T/linkqd.conf" <<EOF
[profile ctl]
kinds = usb-control lockdown-query
duration = 3s

[hooks]
command = $T/hook.sh
on = fail, stranded
EOF

start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"
api PUT /v1/ports/1-4.2/cable '{"cable":"S-01"}' | tail -n 1 | grep -q 200 ||
    fail "cable assignment refused"

trace "usbmuxd drops the device, which stays on the bus: stranded"
id=$(start_run "$u" ctl)
ctl '{"cmd":"drop","device":"phone","mode":"stranded"}' > /dev/null
wait_run "$id" > /dev/null
env=$T/hook-stranded-$id.env
wait_for "[ -e '$env' ]" 20 ||
    fail "no stranded hook: $(ls "$T"; grep hook "$T/linkqd.err")"
cat "$env"
for want in LINKQ_EVENT=stranded LINKQ_VERDICT=FAIL LINKQ_PORT=1-4.2 \
    LINKQ_CABLE=S-01 "LINKQ_UDID=$u" "LINKQ_RUN=$id"; do
	grep -qxF "$want" "$env" || fail "the stranded hook did not get $want"
done
grep -q '^LINKQ_REASON=still on the USB bus at 1-4.2 .*replug the cable$' \
    "$env" || fail "no reason to replug"
wait_for "grep -qx LINKQ_EVENT=fail '$T/hook-fail-$id.env'" 10 ||
    fail "the run's FAIL ran no hook"

stop_linkqd
stop_sim
