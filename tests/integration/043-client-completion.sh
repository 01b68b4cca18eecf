#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq's bash completion, sourced in a plain bash without the
# bash-completion package: it registers itself for linkq and completes
# the commands, each command's options and the profiles.

. "$(dirname "$0")/lib.sh"

# The completions of the command line $1 (a trailing blank: a new word).
complete_line() {
	bash -c '
		. client/linkq.bash-completion
		read -ra COMP_WORDS <<< "$1"
		case $1 in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_linkq
		echo "${COMPREPLY[*]}"' sh "$1"
}

trace "complete -p linkq"
got=$(bash -c '. client/linkq.bash-completion && complete -p linkq')
expect_eq "$got" "complete -F _linkq linkq" "registration"

trace "commands, global and per-command options, profiles"
expect_eq "$(complete_line 'linkq te')" "test" "a command"
expect_eq "$(complete_line 'linkq -s /tmp/x.sock po')" "ports port" \
    "a command after -s SOCKET"
expect_eq "$(complete_line 'linkq --no')" "--no-color" "a global option"
expect_eq "$(complete_line 'linkq test --profile ')" \
    "quick standard restore monitor wiggle" "profiles"
expect_eq "$(complete_line 'linkq qualify 1-1 --profile re')" "restore" \
    "a profile by prefix"
expect_eq "$(complete_line 'linkq events --')" \
    "--help --json --follow --since --db" "events options"
expect_eq "$(complete_line 'linkq runs --')" \
    "--help --json --cable --port --since --verdict --limit --db" \
    "runs options"
expect_eq "$(complete_line 'linkq runs --verdict M')" "MARGINAL" \
    "a verdict"
expect_eq "$(complete_line 'linkq port 1-1 --')" \
    "--help --json --label --clear-label" "port options"
expect_eq "$(complete_line 'linkq cable 1-1 --c')" "--clear" "cable options"
expect_eq "$(complete_line 'linkq report --by ')" "pair cable port device" \
    "report groupings"
expect_eq "$(complete_line 'linkq report --c')" "--csv" "report options"
expect_eq "$(complete_line 'linkq report --ht')" "--html" "report --html"
expect_eq "$(complete_line 'linkq qualify --m')" "--max-age" "qualify options"
expect_eq "$(complete_line 'linkq test --no')" "--no-wait" "test waits"
expect_eq "$(complete_line 'linkq qualify --wait f')" "forever" "wait spans"
expect_eq "$(complete_line 'linkq drawer 1-1 --re')" "--resume" \
    "drawer options"
expect_eq "$(complete_line 'linkq watch --c')" "--cable" "watch options"
complete_line 'linkq watch 1-1 -- ech' | tr ' ' '\n' | grep -qx echo ||
    fail "watch completes the command after --"
# Every command linkq -h lists, so that a new one cannot be missed.
commands=$("$BUILD/linkq" -h | awk '/^commands:/ { on = 1; next }
    on && /^  [a-z]/ { print $1 }')
[ -n "$commands" ] || fail "linkq -h lists no command"
for c in $commands; do
	complete_line "linkq $c" | tr ' ' '\n' | grep -qx "$c" ||
	    fail "command $c not completed: $(complete_line "linkq $c")"
done
