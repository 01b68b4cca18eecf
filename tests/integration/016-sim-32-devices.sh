#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A farm of 32 devices on 32 ports of two buses, behind hubs up to two
# deep, all plugged in at the start: usbmuxd lists them all, 32
# ideviceinfo run at once (32 TLS sessions) each get their own
# device's answer, and 200 idevice_id -l in batches of 50 all see the
# 32 devices; afterwards the simulator still answers and exits cleanly.
# The times are printed for the log, never judged.

. "$(dirname "$0")/lib.sh"

NDEV=32

# The wall clock in milliseconds (GNU date; whole seconds elsewhere).
now_ms() {
	_t=$(date +%s%3N)
	case $_t in
	*[!0-9]*)	_t=$(($(date +%s) * 1000)) ;;
	esac
	echo "$_t"
}
# Print how long something took since $1 (now_ms).
took() {
	_ms=$(($(now_ms) - $1))
	printf 'time: %s: %d.%03d s\n' "$2" $((_ms / 1000)) $((_ms % 1000))
}

trace "write a scenario of $NDEV devices, ports and cables"
i=0
: > "$T/devices"
: > "$T/ports"
: > "$T/cables"
: > "$T/plugs"
for path in 1-1 1-2 1-3 1-4.1 1-4.2 1-4.3 1-4.4 1-4.5 1-4.6 1-4.7 \
    1-5.1 1-5.2 1-5.3 1-5.4.1 1-5.4.2 1-5.4.3 \
    2-1.1 2-1.2 2-1.3 2-1.4 2-1.5 2-1.6 2-1.7 2-2 \
    2-3.1 2-3.2 2-3.3 2-3.4 2-4.1.1 2-4.1.2 2-4.2 2-4.3; do
	i=$((i + 1))
	n=$(printf '%02d' "$i")
	echo "device d$n name=\"Farm $n\"" >> "$T/devices"
	echo "port p$n path=$path label=\"bench $path\"" >> "$T/ports"
	echo "cable c$n label=F-$n" >> "$T/cables"
	echo "at 0s plug d$n p$n c$n" >> "$T/plugs"
done
expect_eq "$i" "$NDEV" "ports in the scenario"
{
	echo "# $NDEV phones on two buses (016-sim-32-devices.sh)"
	echo "seed 32"
	cat "$T/devices" "$T/ports" "$T/cables" "$T/plugs"
} > "$T/farm32.scn"
cat "$T/farm32.scn"

# start_sim allows 20 s; the first start makes a device key, a host key
# and a root key for each device, 3 * $NDEV RSA keys (taken from the
# suite's key pool when LINKQ_SIM_KEY_POOL names one), so wait longer.
trace "start the simulator (the first start makes $((3 * NDEV)) RSA keys)"
t0=$(now_ms)
: > "$T/sim.out"
"$BUILD/linkq-sim" --socket "$T/usbmuxd" --state "$T/sim-state" \
    --control "$T/control" "$T/farm32.scn" > "$T/sim.out" 2> "$T/sim.err" &
# shellcheck disable=SC2034 # stop_sim and cleanup (lib.sh) use it
SIM_PID=$!
if ! wait_for "grep -q '^USBMUXD_SOCKET_ADDRESS=' '$T/sim.out'" 120; then
	tail -n 40 "$T/sim.err" >&2
	fail "linkq-sim did not start in 120 s"
fi
USBMUXD_SOCKET_ADDRESS=$(sed -n 's/^USBMUXD_SOCKET_ADDRESS=//p' \
    "$T/sim.out")
export USBMUXD_SOCKET_ADDRESS
took "$t0" "start with $NDEV devices"

count() {
	idevice_id -l > "$T/list" 2>&1 || return 1
	[ "$(wc -l < "$T/list" | tr -d ' ')" -eq "$1" ]
}

trace "idevice_id -l lists $NDEV UDIDs"
wait_for "count $NDEV" 30 ||
    fail "idevice_id -l does not list $NDEV devices: $(cat "$T/list")"
sort "$T/list" > "$T/udids"
udids=$(cat "$T/udids")
expect_eq "$(sort -u "$T/udids" | wc -l | tr -d ' ')" "$NDEV" \
    "distinct UDIDs"
if grep -Evq '^[0-9A-F]{8}-[0-9A-F]{16}$' "$T/udids"; then
	fail "a UDID is not in usbmuxd's dashed form: $(cat "$T/udids")"
fi

trace "$NDEV ideviceinfo at once, one per device"
t0=$(now_ms)
pids=
i=0
for udid in $udids; do
	i=$((i + 1))
	ideviceinfo -u "$udid" -k ProductVersion > "$T/info.$i" \
	    2> "$T/info.$i.err" &
	pids="$pids $!"
done
bad=0
for pid in $pids; do
	wait "$pid" || bad=$((bad + 1))
done
took "$t0" "$NDEV parallel ideviceinfo"
i=0
for udid in $udids; do
	i=$((i + 1))
	if [ "$(cat "$T/info.$i")" != 17.4 ]; then
		echo "ideviceinfo -u $udid: $(cat "$T/info.$i" \
		    "$T/info.$i.err")" >&2
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ] || fail "$bad of $NDEV ideviceinfo failed"

trace "200 idevice_id -l, in 4 batches of 50 at once"
t0=$(now_ms)
bad=0
for batch in 1 2 3 4; do
	pids=
	j=0
	while [ "$j" -lt 50 ]; do
		j=$((j + 1))
		idevice_id -l > "$T/id.$batch.$j" 2>&1 &
		pids="$pids $!"
	done
	for pid in $pids; do
		wait "$pid" || bad=$((bad + 1))
	done
done
took "$t0" "200 idevice_id -l"
for f in "$T"/id.*; do
	if ! sort "$f" | cmp -s - "$T/udids"; then
		echo "${f##*/}: $(tr '\n' ' ' < "$f")" >&2
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ] || fail "$bad of 200 idevice_id -l failed or did not" \
    "list the $NDEV devices"

trace "the simulator still answers"
count "$NDEV" || fail "idevice_id -l now lists: $(cat "$T/list")"
last=$(tail -n 1 "$T/udids")
expect_eq "$(ideviceinfo -u "$last" -k ProductVersion)" 17.4 \
    "ProductVersion of $last"
"$BUILD/linkq-sim" --control "$T/control" --send '{"cmd":"status"}' \
    > "$T/status" || fail "the control socket does not answer"
expect_eq "$(grep -o '"attached":true' "$T/status" | wc -l | tr -d ' ')" \
    "$NDEV" "attached devices in status"
grep -q '"path":"2-4.1.2"' "$T/status" || fail "no port 2-4.1.2 in status"

trace "stop the simulator"
stop_sim
