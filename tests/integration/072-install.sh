#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# `make install` into a DESTDIR with PREFIX=/usr puts exactly the
# expected files there with their modes: programs, man pages, completion,
# the service unit with linkqd's path in it, the udev rule, sysusers,
# tmpfiles and the example configuration. systemd-analyze verifies the
# unit and rates its hardening OK or better. The example configuration
# names every key linkqd knows (so that a new key is documented there
# too), states each default truly, and parses uncommented. A second
# install keeps an edited configuration; uninstall leaves only
# directories and the edited configuration. Nothing is compiled: make
# installs the programs of $BUILD as they are.

. "$(dirname "$0")/lib.sh"

build=$(cd "$BUILD" && pwd)
root=$T/root
conf=$LQ_TOP/examples/linkq.conf

# make in the source tree, on $BUILD's programs, never rebuilding them
# (-o all), and without the jobserver of the make that runs the tests.
lq_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$LQ_TOP" -o all \
	    BUILD="$build" DESTDIR="$root" PREFIX=/usr "$@" \
	    > "$T/make.out" 2>&1 || {
		cat "$T/make.out" >&2
		fail "make $*"
	}
}

# Every file and symbolic link under $root with its mode.
tree() {
	(cd "$root" && find . ! -type d -printf '%m %P\n' | LC_ALL=C sort)
}

# The directory the Makefile takes from pkg-config, or its fallback.
pc_dir() {
	_d=$(pkg-config --variable="$2" "$1" 2>/dev/null) || _d=
	echo "${_d:-$3}"
}

trace "make install DESTDIR PREFIX=/usr installs exactly this"
lq_make install
unitdir=$(pc_dir systemd systemdsystemunitdir /usr/lib/systemd/system)
udevdir=$(pc_dir udev udevdir /usr/lib/udev)/rules.d
[ "$udevdir" != /rules.d ] || udevdir=/usr/lib/udev/rules.d
sysusersdir=$(pc_dir systemd sysusersdir /usr/lib/sysusers.d)
tmpfilesdir=$(pc_dir systemd tmpfilesdir /usr/lib/tmpfiles.d)
LC_ALL=C sort > "$T/expected" <<EOF
755 usr/sbin/linkqd
755 usr/bin/linkq
755 usr/bin/linkq-sim
644 usr/share/man/man1/linkq.1
644 usr/share/man/man1/linkq-sim.1
644 usr/share/man/man5/linkq.conf.5
644 usr/share/man/man8/linkqd.8
644 usr/share/bash-completion/completions/linkq
644 ${unitdir#/}/linkqd.service
644 ${udevdir#/}/60-linkq.rules
644 ${sysusersdir#/}/linkq.conf
644 ${tmpfilesdir#/}/linkq.conf
644 etc/linkq/linkq.conf
EOF
tree > "$T/tree"
diff -u "$T/expected" "$T/tree" || fail "the installed tree differs (above)"
cmp -s "$build/linkqd" "$root/usr/sbin/linkqd" ||
    fail "the installed linkqd is not $BUILD's"
cmp -s "$conf" "$root/etc/linkq/linkq.conf" ||
    fail "the installed linkq.conf is not examples/linkq.conf"

trace "the unit runs the installed linkqd in the foreground"
unit=$root$unitdir/linkqd.service
grep -qx 'ExecStart=/usr/sbin/linkqd -d' "$unit" ||
    fail "ExecStart: $(grep ExecStart "$unit")"
! grep -n '@[A-Z]*@' "$unit" || fail "a placeholder is left in the unit"

trace "systemd-analyze verify: the unit, with linkqd and the man pages in DESTDIR"
# verify checks that ExecStart= is executable and that man finds the
# pages of Documentation=: point both at the DESTDIR.
sed "s|=/usr/sbin/linkqd|=$root/usr/sbin/linkqd|" "$unit" > \
    "$T/linkqd.service"
vrc=0
MANPATH=$root/usr/share/man systemd-analyze verify "$T/linkqd.service" \
    > "$T/verify" 2>&1 || vrc=$?
[ "$vrc" -eq 0 ] && [ ! -s "$T/verify" ] ||
    fail "systemd-analyze verify (status $vrc): $(cat "$T/verify")"

trace "systemd-analyze security rates the unit OK or better"
systemd-analyze security --offline=true "$T/linkqd.service" \
    > "$T/security" 2>&1 || fail "systemd-analyze security: $(tail -n 5 "$T/security")"
score=$(grep 'Overall exposure level' "$T/security") ||
    fail "no score: $(tail -n 5 "$T/security")"
echo "$score"
case $score in
*" OK"*|*" SAFE"*) ;;
*) fail "hardening: $score" ;;
esac

trace "examples/linkq.conf names every key linkqd -nv prints"
# "SECTION KEY" pairs, [profile NAME] taken as one [profile]: from a
# dump ($1 = dump) or from the example's commented lines ($1 = example).
keys() {
	awk -v what="$1" '
	/^\[/ { s = $0; sub(/^\[profile .*\]$/, "[profile]", s); next }
	what == "example" && /^#?[a-z][^=]* = / ||
	what == "dump" && /^[a-z][^=]* = / {
		k = $0; sub(/^#/, "", k); sub(/ = .*/, "", k)
		print s " " k
	}' "$2" | LC_ALL=C sort -u
}
"$build/linkqd" -n -v -f /dev/null > "$T/defaults" 2> "$T/err" ||
    fail "linkqd -nv: $(cat "$T/err")"
keys dump "$T/defaults" > "$T/keys.linkqd"
keys example "$conf" > "$T/keys.example"
missing=$(LC_ALL=C comm -23 "$T/keys.linkqd" "$T/keys.example")
[ -z "$missing" ] || fail "examples/linkq.conf lacks: $missing"

trace "the example, uncommented, parses and gives the defaults"
sed 's/^#\([a-z]\)/\1/' "$conf" > "$T/uncommented.conf"
"$build/linkqd" -n -v -f "$T/uncommented.conf" > "$T/example.dump" \
    2> "$T/err" || fail "linkqd -n, uncommented example: $(cat "$T/err")"
# Each line of a dump as "SECTION KEY = VALUE", without the keys whose
# value in the example is marked "; example" (not the default).
awk '/^\[/ { s = $0; next } /^#?[a-z][^=]* = .* ; example$/ {
	k = $0; sub(/^#/, "", k); sub(/ = .*/, "", k); print s " " k }' \
    "$conf" > "$T/keys.marked"
values() {
	awk 'NR == FNR { skip[$0] = 1; next }
	/^\[/ { s = $0; next }
	/^[a-z][^=]* = / { k = $0; sub(/ = .*/, "", k)
		if (!((s " " k) in skip)) print s " " $0 }' "$T/keys.marked" "$1"
}
# The defaults to compare with: the example's "; example" lines alone,
# so that a section printed only when one of its keys is set ([hooks]
# with a command) is printed in both dumps.
awk '/^\[/ || /^#[a-z][^=]* = .* ; example$/ { sub(/^#/, ""); print }' \
    "$conf" > "$T/marked.conf"
"$build/linkqd" -n -v -f "$T/marked.conf" > "$T/marked.dump" 2> "$T/err" ||
    fail "linkqd -n, the example's marked lines: $(cat "$T/err")"
values "$T/marked.dump" > "$T/values.defaults"
values "$T/example.dump" > "$T/values.example"
diff -u "$T/values.defaults" "$T/values.example" ||
    fail "examples/linkq.conf states a default wrongly (above)"

trace "a second install keeps an edited linkq.conf"
echo '# edited' >> "$root/etc/linkq/linkq.conf"
cp "$root/etc/linkq/linkq.conf" "$T/edited"
lq_make install
cmp -s "$T/edited" "$root/etc/linkq/linkq.conf" ||
    fail "make install overwrote an edited linkq.conf"

trace "uninstall leaves directories and the edited linkq.conf"
lq_make uninstall
expect_eq "$(tree)" "644 etc/linkq/linkq.conf" "left after uninstall"
cmp -s "$T/edited" "$root/etc/linkq/linkq.conf" ||
    fail "uninstall changed the edited linkq.conf"

trace "uninstall removes a linkq.conf that is still the example"
lq_make install
cp "$conf" "$root/etc/linkq/linkq.conf"
lq_make uninstall
expect_eq "$(tree)" "" "left after uninstall"
