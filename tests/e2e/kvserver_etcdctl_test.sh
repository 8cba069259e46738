#!/usr/bin/env bash
# e2e: the real etcdctl 3.4 judges kvserver's etcd v3 client API on a real 3-node mTLS cluster.
#
# Usage: kvserver_etcdctl_test.sh [SERVER_BINARY [WATCH_PROBE]]
#   SERVER_BINARY  kvserver (default: $KVSERVER_BIN or build/kvserver/server/kvserver). Passing
#                  Debian's `etcd` runs the very same checks against real etcd 3.4, which is how this
#                  script's expectations were themselves checked (only the restore step differs:
#                  `kvserver --restore FILE` vs `etcdctl snapshot restore`).
#   WATCH_PROBE    tests/e2e/tools/watch_progress_probe (default: build/tests/), a gRPC client for
#                  the watch progress notifications etcdctl 3.4 cannot ask for.
#
# The cluster runs on loopback (127.0.0.1, six free ports), each member a child of this script
# with its own data dir, certificates from a throw-away CA made with openssl (ECDSA P-256; server
# certs carry 127.0.0.1 so peers pass etcd's IP SAN check, see ETCD-FACTS "Loopback gotcha").
# Needs no root. Members are ended by their PIDs on exit.
#
# Checks: put/get/prefix/del with -w json field by field (header: cluster_id, member_id, revision,
# raft_term); txn both branches; watch sees another client's writes in order; compacted get and
# watch fail with etcd's text; a progress_notify watch hears how far it has seen (the probe;
# members run with --experimental-watch-progress-notify-interval 500ms); leases: grant,
# put --lease, timetolive --keys, keep-alive, revoke, expiry deletes keys; endpoint health/status
# --cluster (one leader); endpoint hashkv --cluster (every member the same hash); snapshot save
# (size % 512 == 32) then restore into a fresh member that serves the saved keys; `check perf
# --load=s` passes.
set -uo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVER=${1:-${KVSERVER_BIN:-$REPO_DIR/build/bin/kvserver}}
PROBE=${2:-$REPO_DIR/build/tests/watch_progress_probe}
FLAVOUR=kvserver
[ "$(basename "$SERVER")" = etcd ] && FLAVOUR=etcd
WORK=$(mktemp -d /tmp/kvserver-etcdctl-e2e.XXXXXX)
# shellcheck source=tests/e2e/lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"
PIDS=()

b64() { printf %s "$1" | base64 -w0; }
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2" | head -1; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ "$failures" -ne 0 ] || [ "$checks" -eq 0 ]; then
    for f in "$WORK"/*.log; do
      [ -f "$f" ] && { echo "--- $f (last 20 lines)"; tail -20 "$f"; } >&2
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v etcdctl >/dev/null || { echo "FAIL: etcdctl not installed (etcd-client)" >&2; exit 1; }
[ -x "$SERVER" ] || SERVER=$(command -v "$SERVER" || true)
[ -n "$SERVER" ] && SERVER=$(realpath "$SERVER")
[ -n "$SERVER" ] && [ -x "$SERVER" ] || { echo "FAIL: server binary ${1:-kvserver} not found; build the kvserver target first" >&2; exit 1; }
echo "server: $SERVER ($FLAVOUR)"
[ -x "$PROBE" ] || { echo "FAIL: $PROBE not found; build the watch_progress_probe target first" >&2; exit 1; }

# ---- PKI ------------------------------------------------------------------------------------
pki() (
  cd "$WORK" || exit 1
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
    openssl req -x509 -new -key ca.key -subj /CN=e2e-ca -days 1 -out ca.crt \
      -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign || exit 1
  local name eku san
  for name in server admin; do
    if [ "$name" = server ]; then
      eku=serverAuth,clientAuth
      san="subjectAltName=IP:127.0.0.1,DNS:localhost"
    else
      eku=clientAuth
      san="subjectAltName=DNS:admin"
    fi
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n%s\n' "$eku" "$san" >"$name.ext"
    openssl ecparam -name prime256v1 -genkey -noout -out "$name.key" &&
      openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr" &&
      openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
        -extfile "$name.ext" -out "$name.crt" || exit 1
  done
  chmod 600 ./*.key
) >"$WORK/pki.log" 2>&1
pki || { echo "FAIL: openssl could not make the test PKI" >&2; exit 1; }

# ---- ports and members ----------------------------------------------------------------------
port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }
# Below the kernel's ephemeral range: every member here listens on 127.0.0.1, and a port from
# that range can be taken as the source port of a member's outgoing dial (to a peer already up)
# before the member meant to listen on it binds it: "bind: address already in use".
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick_ports() { # pick_ports N: N consecutive free ports
  local tries base i ok
  for tries in $(seq 1 50); do
    base=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000 - $1)))
    ok=1
    for i in $(seq 0 $(($1 - 1))); do port_free $((base + i)) || ok=0; done
    [ $ok = 1 ] && { echo "$base"; return 0; }
  done
  return 1
}
BASE=$(pick_ports 8) || { echo "FAIL: no free ports" >&2; exit 1; }
client_url() { echo "https://127.0.0.1:$((BASE + $1))"; }     # members 1..3, restore 4
peer_url() { echo "https://127.0.0.1:$((BASE + 4 + $1))"; }   # +5..+8
INITIAL_CLUSTER="n1=$(peer_url 1),n2=$(peer_url 2),n3=$(peer_url 3)"

# start_member NAME INDEX INITIAL_CLUSTER [extra flags...]
start_member() {
  local name=$1 i=$2 cluster=$3
  shift 3
  "$SERVER" --name "$name" --data-dir "$WORK/$name.data" \
    --listen-client-urls "$(client_url "$i")" --advertise-client-urls "$(client_url "$i")" \
    --listen-peer-urls "$(peer_url "$i")" --initial-advertise-peer-urls "$(peer_url "$i")" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token e2e-etcdctl \
    --cert-file "$WORK/server.crt" --key-file "$WORK/server.key" \
    --trusted-ca-file "$WORK/ca.crt" --client-cert-auth \
    --peer-cert-file "$WORK/server.crt" --peer-key-file "$WORK/server.key" \
    --peer-trusted-ca-file "$WORK/ca.crt" --peer-client-cert-auth \
    --experimental-watch-progress-notify-interval 500ms "$@" \
    >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

EP1=$(client_url 1)
EP2=$(client_url 2)
EP3=$(client_url 3)
ALL="$EP1,$EP2,$EP3"
TLS=(--cacert "$WORK/ca.crt" --cert "$WORK/admin.crt" --key "$WORK/admin.key")
ctl() { etcdctl --dial-timeout=3s --command-timeout=15s "${TLS[@]}" "$@"; }

wait_healthy() { # wait_healthy ENDPOINTS SECONDS
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    ctl --endpoints="$1" endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2 # poll interval, not a synchronisation point
  done
  return 1
}

for i in 1 2 3; do start_member "n$i" "$i" "$INITIAL_CLUSTER"; done
if ! wait_healthy "$ALL" 30; then
  fail "3-member cluster healthy within 30 s"
  exit 1
fi
echo "ok: 3-member mTLS cluster healthy"

# ---- KV: put/get/prefix/del, -w json field by field -----------------------------------------
out=$(ctl --endpoints="$EP1" put foo bar -w json)
rev=$(json_num revision "$out")
cid=$(json_num cluster_id "$out")
term=$(json_num raft_term "$out")
check "put -w json has a header with revision, cluster_id, raft_term ($out)" \
  test -n "$rev" -a -n "$cid" -a -n "$term" -a "${rev:-0}" -gt 1
members=$(ctl --endpoints="$EP1" member list -w json)
out=$(ctl --endpoints="$EP2" get foo -w json)
check "get -w json: kvs field by field ($out)" contains "$out" \
  "\"kvs\":[{\"key\":\"$(b64 foo)\",\"create_revision\":$rev,\"mod_revision\":$rev,\"version\":1,\"value\":\"$(b64 bar)\"}]"
check "get -w json: count 1, same cluster_id and revision in the header" \
  contains "$out" "\"cluster_id\":$cid,\"member_id\":"
check "get -w json: header revision is the put's" test "$(json_num revision "$out")" = "$rev"
mid=$(json_num member_id "$out")
check "get -w json: member_id ($mid) is a member's ID" contains "$members" "\"ID\":$mid,"
check "get -w json: count" contains "$out" '"count":1'

ctl --endpoints="$EP3" put foo/a 1 >/dev/null && ctl --endpoints="$EP1" put foo/b 2 >/dev/null
out=$(ctl --endpoints="$EP2" get foo/ --prefix)
check "get --prefix lists foo/a, foo/b in order" test "$out" = $'foo/a\n1\nfoo/b\n2'
out=$(ctl --endpoints="$EP3" get foo --consistency=s --print-value-only)
check "serializable get on a follower or leader sees the committed write" test "$out" = bar
out=$(ctl --endpoints="$EP1" del foo/ --prefix --prev-kv)
check "del --prefix --prev-kv: count and previous pairs" test "$out" = $'2\nfoo/a\n1\nfoo/b\n2'
check "deleted keys are gone" test -z "$(ctl --endpoints="$ALL" get foo/ --prefix)"

# ---- txn ------------------------------------------------------------------------------------
ctl --endpoints="$EP1" put tk v1 >/dev/null
script=$'value("tk") = "v1"\n\nput tk v2\n\nput tk other\n\n'
out=$(printf %s "$script" | ctl --endpoints="$EP2" txn)
check "txn: compare holds -> SUCCESS branch" test "$out" = $'SUCCESS\n\nOK'
out=$(printf %s "$script" | ctl --endpoints="$EP3" txn)
check "txn: compare fails -> FAILURE branch" test "$out" = $'FAILURE\n\nOK'
check "txn result" test "$(ctl --endpoints="$ALL" get tk --print-value-only)" = other
# A txn that only reads is served as a (linearizable) read, not through the log: from another
# member, right after a write, it still sees that write.
ctl --endpoints="$EP1" put tr fresh >/dev/null
script=$'value("tr") = "fresh"\n\nget tr\n\nget tr --rev=1\n\n'
out=$(printf %s "$script" | ctl --endpoints="$EP3" txn)
check "read-only txn on another member sees the last write" test "$out" = $'SUCCESS\n\ntr\nfresh'

# ---- watch ----------------------------------------------------------------------------------
out=$(ctl --endpoints="$EP1" put w/1 v1 -w json)
wrev=$(json_num revision "$out")
# --rev replays from the put on, so the watch cannot miss writes made while it connects.
# etcdctl itself in the background (not through ctl, a function: $! would be a subshell, and
# killing that left the watch running after the test).
etcdctl --dial-timeout=3s "${TLS[@]}" --endpoints="$EP3" watch w/ --prefix --rev="$wrev" \
  >"$WORK/watch.out" 2>&1 &
watch_pid=$!
PIDS+=("$watch_pid")
ctl --endpoints="$EP2" put w/2 v2 >/dev/null
ctl --endpoints="$EP1" del w/1 >/dev/null
ctl --endpoints="$EP2" put w/3 v3 >/dev/null
want=$'PUT\nw/1\nv1\nPUT\nw/2\nv2\nDELETE\nw/1\n\nPUT\nw/3\nv3'
deadline=$((SECONDS + 15))
while [ $SECONDS -lt $deadline ] && ! contains "$(cat "$WORK/watch.out")" "$want"; do sleep 0.1; done
check "watch on one member sees other clients' writes in order" contains "$(cat "$WORK/watch.out")" "$want"
kill -TERM "$watch_pid" 2>/dev/null

# ---- watch progress notifications (etcdctl 3.4 cannot ask for them; the probe does) ----------
"$PROBE" "$EP2" "$WORK/ca.crt" "$WORK/admin.crt" "$WORK/admin.key" pn 6 \
  >"$WORK/progress.out" 2>"$WORK/progress.err" &
probe_pid=$!
PIDS+=("$probe_pid")
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && ! grep -q '^created' "$WORK/progress.out"; do sleep 0.1; done
out=$(ctl --endpoints="$EP1" put pn v1 -w json)
pn_rev=$(json_num revision "$out")
wait "$probe_pid"
probe_rc=$?
out=$(cat "$WORK/progress.out")
check "progress probe: the stream stayed up for its 6 s ($(cat "$WORK/progress.err"))" test "$probe_rc" = 0
check "progress probe: created ($out)" grep -q '^created 0 ' <<<"$out"
check "progress probe: the put's event ($pn_rev)" grep -qx "event 0 $pn_rev" <<<"$out"
after=$(sed -n "/^event 0 $pn_rev\$/,\$p" <<<"$out" | grep '^progress' || true)
check "progress probe: notifications after the event, for watch 0, none below its revision" \
  test -n "$after" -a -z "$(awk -v r="$pn_rev" '$2 != 0 || $3 < r' <<<"$after")"
before=$(sed "/^event 0 $pn_rev\$/,\$d" <<<"$out" | grep '^progress' || true)
check "progress probe: no notification before the event claims its revision" \
  test -z "$(awk -v r="$pn_rev" '$2 != 0 || $3 >= r' <<<"$before")"

# ---- compaction ---------------------------------------------------------------------------
for v in 1 2 3; do out=$(ctl --endpoints="$EP1" put ck "$v" -w json); done
crev=$(json_num revision "$out")
out=$(ctl --endpoints="$EP2" compaction --physical "$crev")
check "compaction $crev" test "$out" = "compacted revision $crev"
out=$(ctl --endpoints="$EP3" get ck --rev=$((crev - 1)) 2>&1)
check "get below the compacted revision fails with etcd's text ($out)" \
  contains "$out" "etcdserver: mvcc: required revision has been compacted"
out=$(timeout 20 etcdctl --dial-timeout=3s "${TLS[@]}" --endpoints="$EP1" watch ck --rev=$((crev - 1)) 2>&1)
check "watch from a compacted revision is canceled with etcd's text ($out)" \
  contains "$out" "watch was canceled (etcdserver: mvcc: required revision has been compacted)"

# ---- leases ---------------------------------------------------------------------------------
out=$(ctl --endpoints="$EP1" lease grant 60)
lid=$(sed -n 's/^lease \([0-9a-f]*\) granted with TTL(60s)$/\1/p' <<<"$out")
check "lease grant 60 ($out)" test -n "$lid"
ctl --endpoints="$EP2" put --lease="$lid" lk lv >/dev/null
out=$(ctl --endpoints="$EP3" lease timetolive "$lid" --keys)
check "lease timetolive --keys ($out)" contains "$out" "lease $lid granted with TTL(60s), remaining("
check "lease timetolive lists the attached key" contains "$out" "attached keys([lk])"
out=$(ctl --endpoints="$EP2" lease keep-alive --once "$lid")
check "lease keep-alive --once through a member ($out)" test "$out" = "lease $lid keepalived with TTL(60)"
out=$(ctl --endpoints="$EP1" lease list)
check "lease list shows the lease" contains "$out" "$lid"
out=$(ctl --endpoints="$EP3" lease revoke "$lid")
check "lease revoke ($out)" test "$out" = "lease $lid revoked"
check "revoke deleted the attached key" test -z "$(ctl --endpoints="$ALL" get lk)"
out=$(ctl --endpoints="$EP1" lease grant 2)
sid=$(sed -n 's/^lease \([0-9a-f]*\) granted with TTL(.*$/\1/p' <<<"$out")
ctl --endpoints="$EP1" put --lease="$sid" ek ev >/dev/null
check "a key on a short lease exists first" test "$(ctl --endpoints="$ALL" get ek --print-value-only)" = ev
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ] && [ -n "$(ctl --endpoints="$ALL" get ek)" ]; do sleep 0.2; done
check "lease expiry deletes the key (within 20 s of a ~2 s TTL)" test -z "$(ctl --endpoints="$ALL" get ek)"

# ---- endpoint health / status -----------------------------------------------------------------
# --cluster asks MemberList for every member's client URLs: each member must have published its own.
members=$(ctl --endpoints="$EP1" member list)
check "member list: 3 started members with client URLs ($members)" \
  test "$(grep -c ', started, n[123], https://127.0.0.1:[0-9]*, https://127.0.0.1:[0-9]*, false' <<<"$members")" = 3
out=$(ctl --endpoints="$EP1" endpoint health --cluster 2>&1)
check "endpoint health --cluster: 3 healthy ($out)" test "$(grep -c 'is healthy: successfully committed proposal' <<<"$out")" = 3
out=$(ctl --endpoints="$EP1" endpoint status --cluster -w json)
leaders=$(grep -o '"leader":[0-9]*' <<<"$out" | sort -u)
check "endpoint status --cluster: 3 entries" test "$(grep -o '"Endpoint"' <<<"$out" | wc -l)" = 3
check "endpoint status: all agree on one leader ($leaders)" test "$(wc -l <<<"$leaders")" = 1
check "endpoint status: the leader is a member" contains "$out" "\"member_id\":${leaders#\"leader\":},"
out=$(ctl --endpoints="$EP1" endpoint status --cluster -w table)
check "endpoint status -w table has exactly one leader row" test "$(grep -c '| *true *| *false *|' <<<"$out")" = 1
# HashKV (etcd's cross-member corruption check): every member hashes the same history alike.
deadline=$((SECONDS + 10))
while :; do
  out=$(ctl --endpoints="$EP1" endpoint hashkv --cluster -w json 2>&1)
  hashes=$(grep -o '"hash":[0-9]*' <<<"$out" | sort -u)
  [ "$(grep -o '"hash":' <<<"$out" | wc -l)" = 3 ] && [ "$(wc -l <<<"$hashes")" = 1 ] && break
  [ $SECONDS -ge $deadline ] && break
  sleep 0.2 # poll interval: a follower may still be applying the last write
done
check "endpoint hashkv --cluster: 3 members, one hash ($(tr "\n" " " <<<"$hashes"))" \
  test "$(grep -o '"hash":' <<<"$out" | wc -l) $(wc -l <<<"$hashes")" = "3 1"

# ---- snapshot save + restore ------------------------------------------------------------------
for i in $(seq 1 20); do ctl --endpoints="$EP1" put "snap/$i" "value-$i" >/dev/null; done
out=$(ctl --endpoints="$EP2" snapshot save "$WORK/snap.db" 2>&1)
check "snapshot save ($out)" contains "$out" "Snapshot saved at $WORK/snap.db"
size=$(stat -c %s "$WORK/snap.db" 2>/dev/null || echo 0)
check "snapshot file size $size % 512 == 32" test $((size % 512)) = 32
RC="r1=$(peer_url 4)"
if [ "$FLAVOUR" = kvserver ]; then
  start_member r1 4 "$RC" --restore "$WORK/snap.db"
else
  etcdctl snapshot restore "$WORK/snap.db" --name r1 --data-dir "$WORK/r1.data" \
    --initial-cluster "$RC" --initial-advertise-peer-urls "$(peer_url 4)" >"$WORK/restore.log" 2>&1
  start_member r1 4 "$RC"
fi
if wait_healthy "$(client_url 4)" 30; then
  out=$(ctl --endpoints="$(client_url 4)" get snap/ --prefix --keys-only | grep -c .)
  check "the restored member serves the 20 saved keys ($out)" test "$out" = 20
  out=$(ctl --endpoints="$(client_url 4)" get snap/7 --print-value-only)
  check "restored value" test "$out" = value-7
else
  fail "restored member healthy within 30 s"
fi

# ---- check perf -----------------------------------------------------------------------------
# 60 s of rate-limited puts; fails on any error, slowest > 0.5 s or stddev > 0.1 s, so it wants a
# machine that is not saturated. E2E_SKIP_PERF=1 leaves it out (the etcd reference run does).
if [ "${E2E_SKIP_PERF:-0}" != 1 ]; then
  out=$(ctl --endpoints="$ALL" check perf --load=s 2>&1)
  rc=$?
  check "etcdctl check perf --load=s passes (rc=$rc): $(grep -E 'PASS|FAIL|Slowest' <<<"$out" | tr '\n' ' ')" \
    test $rc = 0
fi

checks_summary
