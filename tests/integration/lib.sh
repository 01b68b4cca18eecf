# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Shared helpers for the integration tests, sourced by each NNN-name.sh.
# tests/run sets BUILD to the build directory whose programs are tested.
# Each test gets a private directory $T, removed when it exits.

set -eu

: "${BUILD:=build/default}"
T=$(mktemp -d "${TMPDIR:-/tmp}/lq-it.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Say what the test is doing; shows in the log of a failed test.
trace() {
	echo "--- $*"
}

# Stop the test as failed.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Fail unless "$1" equals "$2"; $3 says what was compared.
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}
