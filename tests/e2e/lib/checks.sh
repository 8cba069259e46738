#!/usr/bin/env bash
# checks.sh: the assertions every e2e script uses. Source it; it starts nothing.
#
#   check DESCRIPTION COMMAND...   runs COMMAND; prints "ok: DESCRIPTION", or counts a failure
#   fail MESSAGE                   prints "FAIL: MESSAGE" on stderr and counts a failure
#   contains HAYSTACK NEEDLE       true when NEEDLE occurs in HAYSTACK (literally)
#   wait_for DEADLINE_S COMMAND... polls COMMAND until it succeeds or the deadline passes
#   checks_summary                 prints "N checks, M failures"; true only when every check passed
#                                  and there was at least one
# The counters are $checks and $failures.

failures=0
checks=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

check() {
  local what=$1
  shift
  checks=$((checks + 1))
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

contains() { [[ "$1" == *"$2"* ]]; }

wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" && return 0
    sleep 0.2 # polling interval, bounded by the deadline
  done
  "$@"
}

checks_summary() {
  echo "$checks checks, $failures failures"
  [ "$failures" -eq 0 ] && [ "$checks" -gt 0 ]
}
