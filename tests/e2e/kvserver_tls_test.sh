#!/usr/bin/env bash
# e2e: kvserver's mTLS on a real 3-member cluster on loopback (127.0.0.11-13, certs from `provision
# certs generate`), judged by etcdctl 3.4 and openssl:
#  1. refusals: the client port refuses no client cert, a cert from a foreign CA and an expired cert
#     (each while the good cert IS accepted, and the member's log names the TLS error); the peer
#     port refuses the admin and healthcheck client certs (EKU clientAuth only, same CA) while a
#     member's peer cert is accepted, and the member logs why.
#  2. CA + cert rotation on SIGHUP while a writer keeps writing (one etcdctl put per key = one new
#     TLS connection each) and one long-lived `etcdctl watch --prefix` must stay on its TCP
#     connection: trust CA1+CA2 -> serve CA2-issued server and peer certs -> trust CA2 only. Zero
#     failed puts, the watch sees every key in order on the same connection, the servers present
#     the new serials, a CA2 client is accepted and a CA1 client refused at the end, the cluster
#     keeps 3 members and a kill -9'd member rejoins with the new certs.
#
# Usage: kvserver_tls_test.sh [KVSERVER_BIN] [PROVISION_BIN]  (defaults: build/bin/...)
# Needs no root. Members and background clients are ended by PID on exit.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/local_cluster.sh"

# shellcheck source=tests/e2e/lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"
BG_PIDS=()
finish() {
  local pid
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ "$failures" -ne 0 ] || [ "$checks" -eq 0 ]; then lc_show_logs; fi
  lc_cleanup
}
trap finish EXIT

# shellcheck disable=SC2034 # read by lc_init: no spare member needed here
LC_NODES=3
lc_init "${1:-}" "${2:-}" || exit 1
echo "kvserver: $LC_KVSERVER, work dir $LC_WORK, ports $LC_CLIENT_PORT/$LC_PEER_PORT"
P=$LC_WORK/pki
T=$LC_WORK/test
mkdir -p "$T"

# Another PKI made by the same tool: `provision certs generate` for a cluster with another name
# (so another CA, "<name>-ca"), same nodes and addresses. mkpki NAME DIR
mkpki() {
  sed -e "s/^  name: lc$/  name: $1/" -e "s#^  dir: .*#  dir: $2#" "$LC_WORK/inventory.yaml" \
    >"$T/$1.yaml"
  "$LC_PROVISION" certs generate -i "$T/$1.yaml" >"$T/$1.log" 2>&1
}
# ctl CACERT CERT KEY ENDPOINTS ARGS...: etcdctl with explicit TLS files; short timeouts, as every
# refusal costs the whole timeout.
ctl() {
  local ca=$1 cert=$2 key=$3 eps=$4
  shift 4
  ETCDCTL_API=3 etcdctl --endpoints="$eps" --cacert "$ca" ${cert:+--cert "$cert"} \
    ${key:+--key "$key"} --dial-timeout 1500ms --command-timeout 3s "$@"
}
peer_ep() { echo "https://$(lc_ip "$1"):$LC_PEER_PORT"; }
# The serial a member's port presents to a new connection (openssl s_client as the judge).
# served_serial HOST:PORT CACERT CERT KEY
served_serial() {
  timeout 5 openssl s_client -connect "$1" -CAfile "$2" -cert "$3" -key "$4" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
# Bytes the server sends after the TLS handshake within 2 s (a gRPC server sends its HTTP/2
# SETTINGS at once; a refused connection is closed with nothing). h2_bytes HOST:PORT CERT KEY
h2_bytes() {
  timeout 2 openssl s_client -quiet -alpn h2 -connect "$1" -CAfile "$P/ca.crt" -cert "$2" \
    -key "$3" </dev/null 2>/dev/null | wc -c
}
log_has() { grep -q -- "$2" "$LC_WORK/n$1.log"; }
# Atomic replacement, as an operator (or provision) must do it: temp file in the same dir + rename.
install_file() {
  cp "$1" "$2.tmp.$$" && chmod --reference="$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
sighup_all() {
  local i
  for i in 1 2 3; do kill -HUP "${LC_PIDS[$i]}"; done
}

lc_start_cluster
lc_wait_healthy 30 1 2 3 || { fail "3 members healthy within 30 s"; exit 1; }
echo "ok: 3 members healthy"

# ==== 1. refusals =============================================================================
mkpki foreign "$T/foreign" || { fail "foreign PKI"; cat "$T/foreign.log" >&2; exit 1; }
# An expired client cert from the cluster's own CA (openssl ca: Debian 12's OpenSSL 3.0 x509 has no
# -not_before; `ca` takes explicit -startdate/-enddate). Valid for January 2020 only.
mkdir -p "$T/expired-ca"
: >"$T/expired-ca/index.txt"
cat >"$T/expired-ca.cnf" <<EOF
[ca]
default_ca = expired
[expired]
database = $T/expired-ca/index.txt
new_certs_dir = $T/expired-ca
certificate = $P/ca.crt
private_key = $P/ca.key
default_md = sha256
policy = any
rand_serial = yes
unique_subject = no
x509_extensions = client
[any]
commonName = supplied
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF
if ! { openssl ecparam -name prime256v1 -genkey -noout -out "$T/expired.key" &&
  openssl req -new -key "$T/expired.key" -subj /CN=admin -out "$T/expired.csr" &&
  openssl ca -batch -config "$T/expired-ca.cnf" -in "$T/expired.csr" -out "$T/expired.crt" \
    -startdate 20200101000000Z -enddate 20200201000000Z -notext; } >"$T/expired.log" 2>&1; then
  fail "expired cert"
  cat "$T/expired.log" >&2
  exit 1
fi
# The judge of WHY each cert is bad: openssl verify against the CA file the members trust.
out=$(openssl verify -CAfile "$P/ca.crt" "$T/expired.crt" 2>&1)
check "openssl verify: the expired cert is expired" contains "$out" "certificate has expired"
out=$(openssl verify -CAfile "$P/ca.crt" "$T/foreign/clients/admin.crt" 2>&1)
check "openssl verify: the foreign cert has an unknown issuer" \
  contains "$out" "unable to get local issuer certificate"
out=$(openssl verify -CAfile "$P/ca.crt" "$P/clients/admin.crt" 2>&1)
check "openssl verify: the admin cert is good" contains "$out" ": OK"

ADMIN=("$P/clients/admin.crt" "$P/clients/admin.key")
# Each bad client against its own member, in parallel (a refusal costs the dial timeout), so each
# member's log can be matched to one cause.
ctl "$P/ca.crt" "" "" "$(lc_client_url 1)" get k >"$T/r-nocert.out" 2>&1 &
p1=$!
ctl "$P/ca.crt" "$T/foreign/clients/admin.crt" "$T/foreign/clients/admin.key" \
  "$(lc_client_url 2)" get k >"$T/r-foreign.out" 2>&1 &
p2=$!
ctl "$P/ca.crt" "$T/expired.crt" "$T/expired.key" "$(lc_client_url 3)" get k >"$T/r-expired.out" 2>&1 &
p3=$!
# Peer port: the client-only certs of the same CA, and a member's peer cert (n2 -> n1).
ctl "$P/ca.crt" "${ADMIN[@]}" "$(peer_ep 1)" get k >"$T/p-admin.out" 2>&1 &
p4=$!
ctl "$P/ca.crt" "$P/clients/healthcheck.crt" "$P/clients/healthcheck.key" "$(peer_ep 2)" get k \
  >"$T/p-health.out" 2>&1 &
p5=$!
ctl "$P/ca.crt" "$P/n2/peer.crt" "$P/n2/peer.key" "$(peer_ep 1)" get k >"$T/p-peer.out" 2>&1 &
p6=$!
rc=()
for p in $p1 $p2 $p3 $p4 $p5 $p6; do
  wait "$p"
  rc+=($?)
done
for i in 1 2 3; do
  out=$(ctl "$P/ca.crt" "${ADMIN[@]}" "$(lc_client_url "$i")" put "good/$i" ok 2>&1)
  check "client port n$i accepts the admin cert ($out)" test "$out" = OK
done
check "client port n1 refuses a client without a cert" test "${rc[0]}" -ne 0
check "  ... etcdctl could not connect" grep -q "context deadline exceeded" "$T/r-nocert.out"
check "  ... n1 logs 'peer did not return a certificate'" log_has 1 "peer did not return a certificate"
check "client port n2 refuses a cert from a foreign CA" test "${rc[1]}" -ne 0
check "  ... etcdctl could not connect" grep -q "context deadline exceeded" "$T/r-foreign.out"
check "  ... n2 logs 'certificate verify failed'" log_has 2 "certificate verify failed"
check "client port n3 refuses an expired cert of the cluster CA" test "${rc[2]}" -ne 0
check "  ... etcdctl could not connect" grep -q "context deadline exceeded" "$T/r-expired.out"
check "  ... n3 logs 'certificate verify failed'" log_has 3 "certificate verify failed"
# openssl as a second judge: with TLS 1.2 the client-cert check is part of the handshake.
out=$(timeout 5 openssl s_client -brief -tls1_2 -connect "$(lc_ip 1):$LC_CLIENT_PORT" \
  -CAfile "$P/ca.crt" -cert "$T/expired.crt" -key "$T/expired.key" </dev/null 2>&1)
check "openssl s_client: no TLS 1.2 session with the expired cert" \
  test "$(grep -c 'CONNECTION ESTABLISHED' <<<"$out")" = 0
out=$(timeout 5 openssl s_client -brief -tls1_2 -connect "$(lc_ip 1):$LC_CLIENT_PORT" \
  -CAfile "$P/ca.crt" -cert "${ADMIN[0]}" -key "${ADMIN[1]}" </dev/null 2>&1)
check "openssl s_client: a TLS 1.2 session with the admin cert" contains "$out" "CONNECTION ESTABLISHED"

# The peer port serves only the raft service: a connection that gets through hears
# "Unimplemented" for etcdctl's KV.Range; a refused one never gets an answer.
check "peer port n1 accepts n2's peer cert (the RPC reached the server: Unimplemented)" \
  grep -q "code = Unimplemented" "$T/p-peer.out"
check "peer port n1 refuses the admin client cert" test "${rc[3]}" -ne 0
check "  ... no RPC got through" bash -c "! grep -q Unimplemented '$T/p-admin.out'"
check "  ... n1 logs why" log_has 1 "peer port: refused a connection: certificate /CN=admin"
check "  ... naming the missing serverAuth" log_has 1 "extended key usage clientAuth, not serverAuth"
check "peer port n2 refuses the healthcheck client cert" test "${rc[4]}" -ne 0
check "  ... n2 logs why" log_has 2 "peer port: refused a connection: certificate /CN=healthcheck"
# openssl: the TLS handshake itself completes (the chain is good), then the member hangs up
# before HTTP/2 starts; with the peer cert the member sends its HTTP/2 SETTINGS.
n=$(h2_bytes "$(lc_ip 1):$LC_PEER_PORT" "$P/n3/peer.crt" "$P/n3/peer.key")
check "openssl: peer port speaks HTTP/2 to a peer cert ($n bytes)" test "$n" -gt 0
n=$(h2_bytes "$(lc_ip 1):$LC_PEER_PORT" "${ADMIN[@]}")
check "openssl: peer port hangs up on the admin cert ($n bytes)" test "$n" -eq 0
out=$(lc_ctl member list)
check "peer traffic unaffected: 3 members" test "$(grep -c started <<<"$out")" = 3

# ==== 2. CA and cert rotation under load ======================================================
mkpki lc2 "$T/pki2" || { fail "second PKI"; cat "$T/lc2.log" >&2; exit 1; }
Q=$T/pki2
mkdir -p "$T/old"
cp "$P/ca.crt" "$T/old/ca1.crt"
cp "${ADMIN[@]}" "$T/old/"
OLD_ADMIN=("$T/old/admin.crt" "$T/old/admin.key")
cat "$T/old/ca1.crt" "$Q/ca.crt" >"$T/ca12.crt"
cp "$Q/ca.crt" "$T/ca2.crt"
EPS=$(lc_endpoints 1 2 3)

# The long-lived watch, pinned to n2, with the CA1 admin cert and a CA1+CA2 bundle (it must trust
# the servers' CA2 certs later, and its own connection is never re-handshaken).
(exec env ETCDCTL_API=3 etcdctl --endpoints="$(lc_client_url 2)" --cacert "$T/ca12.crt" \
  --cert "${OLD_ADMIN[0]}" --key "${OLD_ADMIN[1]}" watch --prefix rot/ >"$T/watch.out" 2>"$T/watch.err") &
WATCH_PID=$!
BG_PIDS+=("$WATCH_PID")
watch_sees() { grep -qx -- "$1" "$T/watch.out"; }
# The watch starts at the current revision once its stream is up: re-put the marker until seen.
ready_seen() {
  ctl "$T/ca12.crt" "${OLD_ADMIN[@]}" "$EPS" put rot/ready 1 >/dev/null 2>&1
  watch_sees rot/ready
}
check "the watch is up (sees rot/ready)" wait_for 10 ready_seen
watch_conn() { ss -Htnp state established 2>/dev/null | grep "pid=$WATCH_PID," | awk '{print $3, $4}'; }
conn_before=$(watch_conn)
check "the watch has one TCP connection ($conn_before)" test "$(wc -l <<<"$conn_before")" = 1 -a -n "$conn_before"

# The writer: one etcdctl per key (each a new TLS connection to one of the 3 members), sequential,
# so the watch must see rot/k00001, rot/k00002, ... in this order. Stops when $T/stop exists.
writer() {
  local i=0
  while [ ! -e "$T/stop" ]; do
    i=$((i + 1))
    local key
    key=$(printf 'rot/k%05d' "$i")
    if ctl "$T/ca12.crt" "${OLD_ADMIN[@]}" "$EPS" put "$key" "v$i" >>"$T/writer.log" 2>&1; then
      echo "$key" >>"$T/acked"
    else
      echo "$key" >>"$T/failed"
    fi
  done
}
: >"$T/acked"
: >"$T/failed"
writer &
WRITER_PID=$!
BG_PIDS+=("$WRITER_PID")
acked_count() { wc -l <"$T/acked"; }
acked_more_than() { [ "$(acked_count)" -gt "$1" ]; }
check "the writer writes" wait_for 10 acked_more_than 3

# Step 1: every member trusts CA1+CA2 (one CA file serves both ports here, as provision lays it out).
install_file "$T/ca12.crt" "$P/ca.crt"
sighup_all
# The listening side converges within gRPC's 1 s file-watcher refresh: poll with CA2 identities.
ca2_client_ok() {
  [ "$(ctl "$T/ca12.crt" "$Q/clients/admin.crt" "$Q/clients/admin.key" "$(lc_client_url "$1")" \
    put "ca2/$1" ok 2>/dev/null)" = OK ]
}
ca2_peer_ok() {
  local out
  out=$(ctl "$T/ca12.crt" "$Q/n$1/peer.crt" "$Q/n$1/peer.key" "$(peer_ep "$1")" get k 2>&1)
  contains "$out" "code = Unimplemented"
}
for i in 1 2 3; do
  check "n$i client port accepts a CA2 client cert" wait_for 10 ca2_client_ok "$i"
  check "n$i peer port accepts a CA2 peer cert" wait_for 10 ca2_peer_ok "$i"
done
mark1=$(acked_count)

# Step 2: every member serves CA2-issued server and peer certs (key first, then cert: each an
# atomic rename). Known residual risk (tls.h, CAVEAT): a gRPC 1.51 file-watcher refresh landing
# between the two renames reads a mismatched pair and that port refuses new connections for up to
# 1 s; here the two renames are microseconds apart, so a put failing for that reason is ~1e-4 rare.
for i in 1 2 3; do
  for f in server peer; do
    install_file "$Q/n$i/$f.key" "$P/n$i/$f.key"
    install_file "$Q/n$i/$f.crt" "$P/n$i/$f.crt"
  done
done
sighup_all
for i in 1 2 3; do
  want=$(serial_of "$Q/n$i/server.crt")
  serves_new_server() {
    [ "$(served_serial "$(lc_ip "$i"):$LC_CLIENT_PORT" "$T/ca12.crt" "$Q/clients/admin.crt" \
      "$Q/clients/admin.key")" = "$want" ]
  }
  check "n$i client port presents the CA2 server cert (serial $want)" wait_for 10 serves_new_server
  want=$(serial_of "$Q/n$i/peer.crt")
  serves_new_peer() {
    [ "$(served_serial "$(lc_ip "$i"):$LC_PEER_PORT" "$T/ca12.crt" "$Q/n$i/peer.crt" \
      "$Q/n$i/peer.key")" = "$want" ]
  }
  check "n$i peer port presents the CA2 peer cert (serial $want)" wait_for 10 serves_new_peer
done
mark2=$(acked_count)
check "writes kept committing through step 2 (acked $mark1 -> $mark2)" wait_for 10 acked_more_than "$((mark2 + 2))"

touch "$T/stop"
wait "$WRITER_PID"
total=$(acked_count)
check "zero failed puts during the rotation ($(wc -l <"$T/failed") failed, $total acked)" \
  test ! -s "$T/failed"
last=$(tail -1 "$T/acked")
check "the watch saw the last key $last" wait_for 10 watch_sees "$last"
grep -x 'rot/k[0-9]*' "$T/watch.out" >"$T/watched"
check "the watch saw all $total keys, in order, once each" cmp -s "$T/acked" "$T/watched"
for i in 1 2 3; do
  check "n$i logged 'cert reloaded' for both ports on each SIGHUP" \
    test "$(grep -c 'cert reloaded: TLS' "$LC_WORK/n$i.log")" -ge 4
done
out=$(ctl "$T/ca12.crt" "$Q/clients/admin.crt" "$Q/clients/admin.key" "$EPS" member list 2>&1)
check "member list shows 3 after the rotation" test "$(grep -c started <<<"$out")" = 3

# Step 3: drop CA1. The admin clients switch to the CA2 admin cert (lc_ctl reads these paths).
install_file "$T/ca2.crt" "$P/ca.crt"
install_file "$Q/clients/admin.crt" "$P/clients/admin.crt"
install_file "$Q/clients/admin.key" "$P/clients/admin.key"
sighup_all
# Polled with openssl (a refused TLS 1.2 handshake fails at once; etcdctl would wait for its
# timeout), then confirmed with etcdctl on all three members in parallel.
ca1_handshake_refused() {
  local out
  out=$(timeout 5 openssl s_client -brief -tls1_2 -connect "$(lc_ip "$1"):$LC_CLIENT_PORT" \
    -CAfile "$T/ca12.crt" -cert "${OLD_ADMIN[0]}" -key "${OLD_ADMIN[1]}" </dev/null 2>&1)
  ! contains "$out" "CONNECTION ESTABLISHED"
}
for i in 1 2 3; do
  check "n$i: no TLS session for the CA1 admin cert once CA1 is dropped" \
    wait_for 10 ca1_handshake_refused "$i"
done
probes=()
for i in 1 2 3; do
  ctl "$T/ca12.crt" "${OLD_ADMIN[@]}" "$(lc_client_url "$i")" get k >"$T/ca1-$i.out" 2>&1 &
  probes[i]=$!
done
for i in 1 2 3; do
  wait "${probes[$i]}"
  probe_rc=$?
  check "n$i refuses etcdctl with the CA1 admin cert (rc $probe_rc)" test "$probe_rc" -ne 0
  out=$(lc_ctl_at "$i" put "after-drop/$i" ok 2>&1)
  check "n$i accepts the CA2 admin cert and writes ($out)" test "$out" = OK
done
out=$(lc_ctl member list)
check "member list shows 3 on CA2 alone" test "$(grep -c started <<<"$out")" = 3
lc_ctl put rot/final finished >/dev/null
check "the watch, still on its CA1-era connection, sees a write made after CA1 was dropped" \
  wait_for 10 watch_sees rot/final
conn_after=$(watch_conn)
check "the watch kept its TCP connection ($conn_after)" test "$conn_after" = "$conn_before"

# kill -9 a member and restart it: it must come back with the CA2 files alone.
victim=$(lc_leader_index)
[ -n "$victim" ] || victim=3
lc_stop_member "$victim" KILL
# Retried: when the victim led, the put waits for the next election.
put_while_down() { [ "$(lc_ctl put while-down yes 2>/dev/null)" = OK ]; }
check "the other two still write while n$victim is down" wait_for 10 put_while_down
lc_start_member "$victim" new "$LC_CLUSTER"
check "n$victim (killed, leader or not) is healthy again with the new certs" \
  lc_wait_healthy 20 "$victim"
caught_up() {
  [ "$(lc_ctl_at "$victim" get while-down --print-value-only --consistency=s 2>/dev/null)" = yes ]
}
check "n$victim caught up the write made while it was down" wait_for 10 caught_up
out=$(lc_ctl endpoint health 2>&1)
check "all 3 healthy" test "$(grep -c 'is healthy' <<<"$out")" = 3

checks_summary
