#!/usr/bin/env bash
# bench/kv/run.sh: kvserver vs etcd 3.4, side by side on this machine (issue 4, "Speed").
#
# Usage: bench/kv/run.sh [--quick] [--snapshot-count N] [BUILD_DIR]
#   BUILD_DIR  where kvserver, provision (bin/), bench_kv_load and bench_null_kv (bench/) were built;
#              default $BUILD_DIR or build/. Build them first:
#              ninja -C BUILD_DIR kvserver provision bench_kv_load bench_null_kv
#   --quick    2 s cells after 0.5 s warm-up, 20k keys, no `check perf` (about a minute in all)
#   --snapshot-count N  passed to both servers (default: each its own, kvserver 10000, etcd 3.4
#              100000). kvserver writes each snapshot (its whole store) in a forked SCHED_IDLE
#              child beside the loop; compare with `--snapshot-count 100000000` (no snapshot)
#              to see what they still cost.
#
# Both systems run the same way, one after the other, each alone on the machine: 3 members on
# 127.0.0.11-13 started by tests/e2e/lib/local_cluster.sh with the same flags (etcd's names, DESIGN
# §3), the same certificates from `provision certs generate` (127.0.0.1 in the SANs, which etcd's peer
# check needs on loopback), full mTLS on client and peer ports, heartbeat 100 ms / election 1000 ms
# (etcd's defaults), other settings at each server's defaults, data dirs in a fresh dir under /tmp
# (say which filesystem in the header line: fsync cost dominates writes).
#   0. first, etcdctl's own ceiling here: `etcdctl check perf --load=l` against three bench_null_kv
#      endpoints on the members' addresses, which store nothing (no Raft, no disk), once answering
#      each request on arrival and once answering in batches every 1000 us, as a Raft server
#      answers a commit's worth at once; and how much CPU etcdctl itself used (its user + system
#      time over the run's wall time, also shown for the servers' runs in step 1).
# For each system:
#   1. on a fresh cluster of its own, as an operator would run it: `etcdctl check perf --load=l`
#      (500 clients asking 8000 w/s of 1 KiB values for 60 s) against all three members
#      (--auto-compact);
#   1b. on another fresh cluster, the same load from bench_kv_load --rate: 500 clients, one TLS
#      connection each per member as etcdctl's, 256 B random keys, 1 KiB values, 8000 requests
#      started per second by a pacer that keeps time, 60 s; judged by check perf's own criteria
#      (throughput > 90% of 8000, slowest < 0.5 s, stddev < 0.1 s). Why both: on 2 cores check
#      perf l is CPU-bound against either server (each check perf run reports how much of the
#      machine was idle meanwhile, from /proc/stat: 3-11% in the runs of 2026-11-27), and etcdctl
#      itself takes 0.3-0.75 of the cores, more the faster it goes; on top of that its pacer (a Go
#      rate.Limiter, burst 1) loses its turn whenever etcdctl's runtime sleeps in epoll, which Go
#      1.19 does in whole milliseconds (step 0: endpoints that do no work but answer in 1 ms
#      batches fail it with half the machine idle). And etcdctl's Go client costs the servers more
#      per write: ad hoc on 2026-11-27, the three kvservers used 239 us of CPU per write under
#      check perf l (5237 w/s) against 146 under 1b's load (7861 w/s), with 8.5 against 3.5 TCP
#      segments per write on loopback (its Go client answers each response with a BDP PING). 1b
#      shows what the servers sustain at the load check perf asks, from a client that keeps time.
#      Then on another fresh cluster:
#   2. fill: Put every key of the key space once (100k keys of 256 B, 256 clients), then the RSS of
#      the three members (sum of VmRSS) - measured first, so nothing else has touched the store;
#   3. cells: Put (256 B values over the same 100k keys) and linearizable Range (one key), at 1, 16
#      and 256 clients, each client one request in flight, clients sharing one TLS connection per
#      member (like etcd's `benchmark --conns`), the leader's connection first so that one client
#      talks to the leader: throughput, p50, p99 (bench_kv_load, see its header).
# Then, for each system:
#   4. what the disk costs it: on a fresh cluster started with etcd's --unsafe-no-fsync (no fsync at
#      all; unsafe - a measure, never a way to run a member): in full runs check perf l, then fill
#      and Put at 1 client. Set beside the figures with fsync, it shows which targets the disk
#      decides here and which the CPU.
# Then the table: both systems, the ratio kvserver/etcd and the issue's targets (kvserver passes
# check perf l; Put throughput >= 2x etcd's and p99 <= etcd's at every concurrency; RSS with 100k
# keys <= 1/2 etcd's). The load generator shares the 2 cores with the servers, equally for both.
# Exit status: 0 when the run completed (whether or not the targets are met), 1 when it could not.
set -uo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QUICK=0
BUILD=${BUILD_DIR:-$REPO_DIR/build}
SERVER_FLAGS=()
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case "$arg" in
    --quick) QUICK=1 ;;
    --snapshot-count)
      [[ "${1:-}" =~ ^[0-9]+$ ]] || { echo "run.sh: --snapshot-count needs a number" >&2; exit 1; }
      SERVER_FLAGS+=(--snapshot-count "$1")
      shift
      ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $arg" >&2; exit 1 ;;
    *) BUILD=$arg ;;
  esac
done
BUILD=$(realpath "$BUILD")
KVSERVER=$BUILD/bin/kvserver
PROVISION=$BUILD/bin/provision
LOAD=$BUILD/bench/bench_kv_load
NULL_KV=$BUILD/bench/bench_null_kv
ETCD=${ETCD_BIN:-/usr/bin/etcd}
for f in "$KVSERVER" "$PROVISION" "$LOAD" "$NULL_KV" "$ETCD"; do
  [ -x "$f" ] || {
    echo "run.sh: $f not found; build kvserver provision bench_kv_load bench_null_kv" >&2
    exit 1
  }
done

if [ $QUICK = 1 ]; then
  DURATION=2 WARMUP=0.5 KEYS=20000 PERF=0
else
  DURATION=8 WARMUP=1 KEYS=100000 PERF=1
fi
CLIENTS=(1 16 256)
OPS=(put get)

LC_NODES=3 LC_HEARTBEAT_MS=100 LC_ELECTION_MS=1000 LC_EXTRA_SANS=127.0.0.1
# shellcheck source=../../tests/e2e/lib/local_cluster.sh
source "$REPO_DIR/tests/e2e/lib/local_cluster.sh"
NULL_PIDS=()
stop_null_endpoints() {
  [ ${#NULL_PIDS[@]} -eq 0 ] && return 0
  kill "${NULL_PIDS[@]}" 2>/dev/null
  wait "${NULL_PIDS[@]}" 2>/dev/null
  NULL_PIDS=()
}
trap 'stop_null_endpoints; lc_cleanup' EXIT
lc_init "$KVSERVER" "$PROVISION" || exit 1
PKI=$LC_WORK/pki
FS=$(df --output=fstype,source "$LC_WORK" | tail -1 | awk '{print $1" on "$2}')

declare -A R # R[system:metric] = figure

die() {
  echo "run.sh: $*" >&2
  local i
  for i in 1 2 3; do
    [ -f "$LC_WORK/n$i.log" ] && { echo "--- n$i.log (last 15 lines)"; tail -15 "$LC_WORK/n$i.log"; } >&2
  done
  exit 1
}

rss_kb() { # the sum of VmRSS of the running members, in kB
  local i sum=0 kb
  for i in $(lc_running); do
    kb=$(awk '/^VmRSS:/{print $2}' "/proc/${LC_PIDS[$i]}/status")
    sum=$((sum + kb))
  done
  echo "$sum"
}

# field NAME LINE: the value of NAME=... in a RESULT line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

load() { # load ARGS...: one bench_kv_load run against $EPS; prints its RESULT line
  local out
  out=$("$LOAD" --endpoints "$EPS" --cacert "$PKI/ca.crt" --cert "$PKI/clients/admin.crt" \
    --key "$PKI/clients/admin.key" --keys "$KEYS" "$@" 2>"$LC_WORK/load.err") ||
    die "bench_kv_load $* failed: $(cat "$LC_WORK/load.err")"
  grep '^RESULT ' <<<"$out"
}

fresh_cluster() { # fresh_cluster NAME [FLAG...]: new data dirs, 3 members up (with FLAGs), EPS = leader's URL first
  local sys=$1 i deadline leader=""
  rm -rf "$LC_WORK"/n*.data
  lc_start_cluster "${SERVER_FLAGS[@]}" "${@:2}"
  lc_wait_healthy 60 || die "$sys: cluster not healthy within 60 s"
  deadline=$((SECONDS + 30))
  while [ -z "$leader" ] && [ $SECONDS -lt $deadline ]; do
    leader=$(lc_leader_index) || sleep 0.2 # poll interval, bounded by the deadline
  done
  [ -n "$leader" ] || die "$sys: no member says it leads within 30 s"
  EPS=$(lc_endpoints "$leader" $(for i in 1 2 3; do [ "$i" != "$leader" ] && echo "$i"; done))
}
stop_cluster() { local i; for i in 1 2 3; do lc_stop_member "$i"; done; }

# check_perf_l KEY: `etcdctl check perf --load=l` against $EPS; sets R[KEY:perf_tput],
# R[KEY:perf_slowest], R[KEY:perf_verdict], R[KEY:perf_cpu], the cores etcdctl used (its user +
# system time over the wall time it ran), and R[KEY:perf_idle], the % of the machine left idle.
check_perf_l() {
  local key=$1 out
  local cpu0 cpu1
  cpu0=$(head -1 /proc/stat)
  out=$(
    start=$EPOCHREALTIME
    LC_ENDPOINTS=$EPS lc_ctl --command-timeout 120s check perf --load=l --auto-compact 2>&1
    # etcdctl was this subshell's only child, so the second line of `times` is its user and
    # system time. `times` runs here, not in a pipe or $(...): a forked child counts none.
    echo "ETCDCTL_WALL $start $EPOCHREALTIME"
    times
  )
  cpu1=$(head -1 /proc/stat)
  # etcdctl 3.4 prefixes a failed throughput with FAIL but not a failed slowest or stddev.
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL|Slowest request|Stddev)' | sed 's/^/  check perf l: /' >&2
  R[$key:perf_tput]=$(sed -n "s/.*Throughput[^0-9]*\([0-9][0-9]*\) writes.*/\1/p" <<<"$out")
  R[$key:perf_slowest]=$(sed -n "s/.*Slowest request took[^0-9]*\([0-9.][0-9.]*\)s.*/\1/p" <<<"$out")
  R[$key:perf_verdict]=$(sed '/^ETCDCTL_WALL/,$d' <<<"$out" | tail -1 | grep -oE '^(PASS|FAIL)' || echo "ERROR")
  [ -n "${R[$key:perf_tput]}" ] || R[$key:perf_tput]=0
  R[$key:perf_cpu]=$(awk '/^ETCDCTL_WALL/ { wall = $3 - $2 } END {
    split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]); sub("s", "", s[2])
    printf "%.2f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) / wall }' <<<"$out")
  # /proc/stat's cpu line: user nice system idle iowait irq softirq steal ...; idle = idle + iowait
  R[$key:perf_idle]=$(printf '%s\n%s\n' "$cpu0" "$cpu1" | awk '{
    t = 0; for (i = 2; i <= NF; i++) t += $i
    if (NR == 1) { t0 = t; i0 = $5 + $6 } else printf "%.0f", 100 * ($5 + $6 - i0) / (t - t0) }')
}

# null_ceiling BATCH_US: check perf l against three bench_null_kv endpoints on the members'
# client addresses, with the members' own certificates; results in R[null:BATCH_US:*].
null_ceiling() {
  local batch=$1 i
  rm -f "$LC_WORK/null.err"
  for i in 1 2 3; do
    "$NULL_KV" --listen "$(lc_ip "$i"):$LC_CLIENT_PORT" --cacert "$PKI/ca.crt" \
      --cert "$PKI/n$i/server.crt" --key "$PKI/n$i/server.key" --batch-us "$batch" \
      2>>"$LC_WORK/null.err" &
    NULL_PIDS+=($!)
  done
  local deadline=$((SECONDS + 10))
  for i in 1 2 3; do
    until lc_ctl_at "$i" get probe >/dev/null 2>&1; do
      [ $SECONDS -lt $deadline ] || die "bench_null_kv on n$i does not answer: $(cat "$LC_WORK/null.err")"
      sleep 0.2 # poll interval, bounded by the deadline
    done
  done
  echo "== bench_null_kv, answering $( [ "$batch" = 0 ] && echo "at once" || echo "every $batch us")" >&2
  EPS=$(lc_endpoints 1 2 3)
  check_perf_l "null:$batch"
  stop_null_endpoints
}

bench_system() { # bench_system NAME BINARY
  local sys=$1 line op c
  LC_KVSERVER=$2
  rm -f "$LC_WORK"/n*.log
  echo "== $sys ($2)" >&2
  if [ $PERF = 1 ]; then
    # On a cluster of its own, as an operator would run it: not on a store the cells have filled.
    fresh_cluster "$sys"
    check_perf_l "$sys"
    stop_cluster

    fresh_cluster "$sys"
    line=$(load --op put --clients 500 --conns-per-endpoint 500 --rate 8000 --key-size 256 \
      --value-size 1024 --keys 1000000000 --duration 60 --warmup 0)
    echo "  paced check-perf-l load: $line" >&2
    for f in tput offered p99_ms max_ms stddev_ms; do R[$sys:paced_$f]=$(field "$f" "$line"); done
    R[$sys:paced_verdict]=$(awk -v t="${R[$sys:paced_tput]}" -v m="${R[$sys:paced_max_ms]}" \
      -v d="${R[$sys:paced_stddev_ms]}" 'BEGIN { print (t / 8000 > 0.9 && m < 500 && d < 100) ? "PASS" : "FAIL" }')
    stop_cluster
  fi

  fresh_cluster "$sys"
  R[$sys:rss0]=$(rss_kb)
  line=$(load --op fill --clients 256)
  echo "  fill $KEYS keys: $line" >&2
  R[$sys:fill]=$(field tput "$line")
  R[$sys:rss]=$(rss_kb)

  for op in "${OPS[@]}"; do
    for c in "${CLIENTS[@]}"; do
      line=$(load --op "$op" --clients "$c" --duration "$DURATION" --warmup "$WARMUP")
      echo "  $line" >&2
      R[$sys:$op:$c:tput]=$(field tput "$line")
      R[$sys:$op:$c:p50]=$(field p50_ms "$line")
      R[$sys:$op:$c:p99]=$(field p99_ms "$line")
    done
  done
  stop_cluster
}

# no_fsync_step NAME BINARY: step 4, the system with --unsafe-no-fsync; results in R[NAME:nofsync:*].
no_fsync_step() {
  local sys=$1 line
  LC_KVSERVER=$2
  rm -f "$LC_WORK"/n*.log
  echo "== $sys with --unsafe-no-fsync (a measure only)" >&2
  if [ $PERF = 1 ]; then
    fresh_cluster "$sys" --unsafe-no-fsync
    check_perf_l "$sys:nofsync"
    stop_cluster
  fi
  fresh_cluster "$sys" --unsafe-no-fsync
  line=$(load --op fill --clients 256)
  echo "  fill $KEYS keys: $line" >&2
  line=$(load --op put --clients 1 --duration "$DURATION" --warmup "$WARMUP")
  echo "  $line" >&2
  for f in tput p50 p99; do
    R[$sys:nofsync:put:1:$f]=$(field "$f$([ $f = tput ] || echo _ms)" "$line")
  done
  stop_cluster
}

NULL_BATCHES=(0 1000)
if [ $PERF = 1 ]; then
  for b in "${NULL_BATCHES[@]}"; do null_ceiling "$b"; done
fi
bench_system kvserver "$KVSERVER"
bench_system etcd "$ETCD"
no_fsync_step kvserver "$KVSERVER"
no_fsync_step etcd "$ETCD"

# ---- the table ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# verdict RATIO OP LIMIT: ok / MISS for "ratio OP limit" (OP is >= or <=)
verdict() {
  awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (r == "-") { print "-"; exit }
    ok = (op == ">=") ? (r + 0 >= l + 0) : (r + 0 <= l + 0); print ok ? "ok" : "MISS" }'
}
row() { printf '%-34s %14s %14s %8s   %s\n' "$@"; }

ETCD_VERSION=$("$ETCD" --version 2>/dev/null | sed -n 's/^etcd Version: //p')
echo
echo "bench/kv: 3-member mTLS clusters on loopback, kvserver ($(git -C "$REPO_DIR" rev-parse --short HEAD)) vs etcd $ETCD_VERSION"
echo "server flags beyond the common ones: ${SERVER_FLAGS[*]:-none, each server at its defaults}"
echo "$(nproc) cores (load average $(cut -d" " -f1-3 /proc/loadavg) at the end), data dirs under $LC_WORK ($FS), $DURATION s per cell after $WARMUP s warm-up, $KEYS keys of 256 B"
echo
row "" kvserver etcd ratio "target (kvserver vs etcd)"
if [ $PERF = 1 ]; then
  v=FAIL
  [ "${R[kvserver:perf_verdict]}" = PASS ] && v=ok
  row "check perf l (writes/s)" "${R[kvserver:perf_tput]} ${R[kvserver:perf_verdict]}" \
    "${R[etcd:perf_tput]} ${R[etcd:perf_verdict]}" "$(ratio "${R[kvserver:perf_tput]}" "${R[etcd:perf_tput]}")" \
    "kvserver PASS: $v"
  row "  slowest request (s)" "${R[kvserver:perf_slowest]}" "${R[etcd:perf_slowest]}" "" ""
  row "  etcdctl's CPU (cores)" "${R[kvserver:perf_cpu]}" "${R[etcd:perf_cpu]}" "" ""
  row "  machine idle meanwhile (%)" "${R[kvserver:perf_idle]}" "${R[etcd:perf_idle]}" "" ""
  row "same load, paced on time (w/s)" "${R[kvserver:paced_tput]} ${R[kvserver:paced_verdict]}" \
    "${R[etcd:paced_tput]} ${R[etcd:paced_verdict]}" \
    "$(ratio "${R[kvserver:paced_tput]}" "${R[etcd:paced_tput]}")" "(1b; offered ${R[kvserver:paced_offered]} / ${R[etcd:paced_offered]})"
  for f in p99_ms max_ms stddev_ms; do
    row "  ${f%_ms} (ms)" "${R[kvserver:paced_$f]}" "${R[etcd:paced_$f]}" \
      "$(ratio "${R[kvserver:paced_$f]}" "${R[etcd:paced_$f]}")" ""
  done
fi
for op in "${OPS[@]}"; do
  name=Put
  [ "$op" = get ] && name="Range (linearizable)"
  for c in "${CLIENTS[@]}"; do
    r=$(ratio "${R[kvserver:$op:$c:tput]}" "${R[etcd:$op:$c:tput]}")
    t=""
    [ "$op" = put ] && t=">= 2: $(verdict "$r" ">=" 2)"
    row "$name c=$c (ops/s)" "${R[kvserver:$op:$c:tput]}" "${R[etcd:$op:$c:tput]}" "$r" "$t"
    row "  p50 (ms)" "${R[kvserver:$op:$c:p50]}" "${R[etcd:$op:$c:p50]}" \
      "$(ratio "${R[kvserver:$op:$c:p50]}" "${R[etcd:$op:$c:p50]}")" ""
    r=$(ratio "${R[kvserver:$op:$c:p99]}" "${R[etcd:$op:$c:p99]}")
    row "  p99 (ms)" "${R[kvserver:$op:$c:p99]}" "${R[etcd:$op:$c:p99]}" "$r" "<= 1: $(verdict "$r" "<=" 1)"
  done
done
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row "fill $KEYS keys (puts/s)" "${R[kvserver:fill]}" "${R[etcd:fill]}" \
  "$(ratio "${R[kvserver:fill]}" "${R[etcd:fill]}")" ""
row "RSS 3 members, idle (MB)" "$(mb "${R[kvserver:rss0]}")" "$(mb "${R[etcd:rss0]}")" \
  "$(ratio "${R[kvserver:rss0]}" "${R[etcd:rss0]}")" ""
r=$(ratio "${R[kvserver:rss]}" "${R[etcd:rss]}")
row "RSS 3 members, $KEYS keys (MB)" "$(mb "${R[kvserver:rss]}")" "$(mb "${R[etcd:rss]}")" "$r" \
  "<= 0.5: $(verdict "$r" "<=" 0.5)"
if [ $PERF = 1 ]; then
  echo
  echo "etcdctl's ceiling here (step 0): check perf l against three bench_null_kv endpoints, which"
  echo "store nothing (no Raft, no disk) and share the cores only with etcdctl:"
  for b in "${NULL_BATCHES[@]}"; do
    how="answering at once"
    [ "$b" = 0 ] || how="answering every $b us"
    printf '  %-26s %6s w/s %-5s slowest %ss, etcdctl used %s cores, machine idle %s%%\n' \
      "$how" "${R[null:$b:perf_tput]}" "${R[null:$b:perf_verdict]}" "${R[null:$b:perf_slowest]}" \
      "${R[null:$b:perf_cpu]}" "${R[null:$b:perf_idle]}"
  done
fi
echo
echo "What the disk costs (step 4): both systems again, each on a fresh cluster started with etcd's"
echo "--unsafe-no-fsync (no fsync at all: a measure, never a way to run), beside kvserver's figures above:"
row "" kvserver etcd ratio "kvserver with fsync, ratio"
for f in tput p50 p99; do
  name="Put c=1 (ops/s)"
  [ $f = tput ] || name="  $f (ms)"
  row "$name" "${R[kvserver:nofsync:put:1:$f]}" "${R[etcd:nofsync:put:1:$f]}" \
    "$(ratio "${R[kvserver:nofsync:put:1:$f]}" "${R[etcd:nofsync:put:1:$f]}")" \
    "${R[kvserver:put:1:$f]}, $(ratio "${R[kvserver:put:1:$f]}" "${R[etcd:put:1:$f]}")"
done
if [ $PERF = 1 ]; then
  row "check perf l (writes/s)" "${R[kvserver:nofsync:perf_tput]} ${R[kvserver:nofsync:perf_verdict]}" \
    "${R[etcd:nofsync:perf_tput]} ${R[etcd:nofsync:perf_verdict]}" \
    "$(ratio "${R[kvserver:nofsync:perf_tput]}" "${R[etcd:nofsync:perf_tput]}")" \
    "${R[kvserver:perf_tput]} ${R[kvserver:perf_verdict]}"
  row "  machine idle meanwhile (%)" "${R[kvserver:nofsync:perf_idle]}" "${R[etcd:nofsync:perf_idle]}" "" \
    "${R[kvserver:perf_idle]}"
fi
