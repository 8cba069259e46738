#!/usr/bin/env bash
# local_cluster.sh: a reusable harness for e2e tests that need a real kvserver cluster on loopback.
# Source it; it defines functions and LC_* variables and starts nothing by itself.
#
#   source tests/e2e/lib/local_cluster.sh
#   lc_init [KVSERVER_BIN] [PROVISION_BIN]  work dir, free ports, certs from `provision certs
#                                           generate` (nodes n1..n$LC_NODES at 127.0.0.11..)
#   lc_start_cluster [flags...]             n1..n3 with --initial-cluster-state new, full mTLS
#   lc_wait_healthy [DEADLINE_S] [I...]     polls `etcdctl endpoint health` until all are healthy
#                                           and started (published) in `member list`
#   lc_ctl ARGS...                          etcdctl (API 3) with the admin client cert, all members
#   lc_ctl_at I ARGS...                     the same against member I only
#   lc_start_member I STATE CLUSTER [flags] one member (used for restarts and joins)
#   lc_stop_member I [SIGNAL]               ends member I by its PID (default TERM), waits, and
#                                           sets LC_EXIT[I] to its exit status
#   lc_leader_index                         the index of the member that says it leads (or empty)
#   lc_show_logs                            the last 25 lines of every member's log, on stderr
#                                           (for an EXIT trap when a check failed)
#   lc_cleanup                              ends every member by PID, removes the work dir unless
#                                           LC_KEEP=1 (call from your EXIT trap)
#
# Every member gets its own IP (127.0.0.1X) and temp data dir; ports are picked at random and
# checked free so two runs never collide. Outgoing peer connections come from 127.0.0.1 (the
# kernel's choice on loopback); kvserver does not check client-cert IPs against the source, so
# peer certs need no 127.0.0.1 SAN (etcd would: set LC_EXTRA_SANS="127.0.0.1" for etcd).
# Knobs (set before lc_init): LC_NODES (certs for this many nodes, default 4: one spare to add),
# LC_HEARTBEAT_MS (default 50), LC_ELECTION_MS (default 500), LC_EXTRA_SANS.

LC_REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
LC_NODES=${LC_NODES:-4}
LC_HEARTBEAT_MS=${LC_HEARTBEAT_MS:-50}
LC_ELECTION_MS=${LC_ELECTION_MS:-500}
LC_EXTRA_SANS=${LC_EXTRA_SANS:-}
LC_PIDS=()
LC_EXIT=()

lc_ip() { echo "127.0.0.$((10 + $1))"; }
lc_client_url() { echo "https://$(lc_ip "$1"):$LC_CLIENT_PORT"; }
lc_peer_url() { echo "https://$(lc_ip "$1"):$LC_PEER_PORT"; }
lc_endpoints() { # lc_endpoints I... (default: every running member)
  local out="" i
  local list=("$@")
  [ ${#list[@]} -eq 0 ] && list=($(lc_running))
  for i in "${list[@]}"; do out+="${out:+,}$(lc_client_url "$i")"; done
  echo "$out"
}
lc_running() { # indexes of members whose process is alive
  local i
  for i in "${!LC_PIDS[@]}"; do
    [ -n "${LC_PIDS[$i]}" ] && kill -0 "${LC_PIDS[$i]}" 2>/dev/null && echo "$i"
  done
}

lc_port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

lc_init() {
  LC_KVSERVER=${1:-${KVSERVER_BIN:-$LC_REPO_DIR/build/bin/kvserver}}
  LC_PROVISION=${2:-${PROVISION_BIN:-$LC_REPO_DIR/build/bin/provision}}
  [ -x "$LC_KVSERVER" ] || { echo "lc_init: kvserver binary $LC_KVSERVER not found; build it" >&2; return 1; }
  [ -x "$LC_PROVISION" ] || { echo "lc_init: provision binary $LC_PROVISION not found; build it" >&2; return 1; }
  command -v etcdctl >/dev/null || { echo "lc_init: etcdctl not installed (etcd-client)" >&2; return 1; }
  LC_WORK=$(mktemp -d /tmp/kvserver-cluster.XXXXXX)
  local tries
  for tries in $(seq 1 50); do
    # Below the kernel's ephemeral range (from 32768 by default), where dials take source ports.
    LC_CLIENT_PORT=$((20000 + RANDOM % 12000))
    LC_PEER_PORT=$((LC_CLIENT_PORT + 1))
    lc_port_free "$LC_CLIENT_PORT" && lc_port_free "$LC_PEER_PORT" && break
  done
  LC_TOKEN="lc-$(basename "$LC_WORK")"
  {
    echo "cluster:"
    echo "  name: lc"
    echo "  token: $LC_TOKEN"
    echo "pki:"
    echo "  dir: $LC_WORK/pki"
    echo "  cert_validity: 2d"
    echo "  renew_before: 1d"
    echo "nodes:"
    local i
    for i in $(seq 1 "$LC_NODES"); do
      echo "  - name: n$i"
      echo "    address: $(lc_ip "$i")"
      [ -n "$LC_EXTRA_SANS" ] && echo "    extra_sans: [$LC_EXTRA_SANS]"
    done
  } >"$LC_WORK/inventory.yaml"
  if ! "$LC_PROVISION" certs generate -i "$LC_WORK/inventory.yaml" >"$LC_WORK/certs.log" 2>&1; then
    echo "lc_init: provision certs generate failed:" >&2
    cat "$LC_WORK/certs.log" >&2
    return 1
  fi
  LC_CLUSTER=""
  for i in 1 2 3; do LC_CLUSTER+="${LC_CLUSTER:+,}n$i=$(lc_peer_url "$i")"; done
}

# lc_start_member I STATE CLUSTER [extra flags...]
lc_start_member() {
  local i=$1 state=$2 cluster=$3
  shift 3
  local pki="$LC_WORK/pki"
  mkdir -p "$LC_WORK/n$i.data"
  "$LC_KVSERVER" --name "n$i" --data-dir "$LC_WORK/n$i.data" \
    --listen-client-urls "$(lc_client_url "$i")" --advertise-client-urls "$(lc_client_url "$i")" \
    --listen-peer-urls "$(lc_peer_url "$i")" --initial-advertise-peer-urls "$(lc_peer_url "$i")" \
    --initial-cluster "$cluster" --initial-cluster-state "$state" \
    --initial-cluster-token "$LC_TOKEN" \
    --cert-file "$pki/n$i/server.crt" --key-file "$pki/n$i/server.key" \
    --trusted-ca-file "$pki/ca.crt" --client-cert-auth \
    --peer-cert-file "$pki/n$i/peer.crt" --peer-key-file "$pki/n$i/peer.key" \
    --peer-trusted-ca-file "$pki/ca.crt" --peer-client-cert-auth \
    --heartbeat-interval "$LC_HEARTBEAT_MS" --election-timeout "$LC_ELECTION_MS" "$@" \
    >>"$LC_WORK/n$i.log" 2>&1 &
  LC_PIDS[$i]=$!
}

lc_start_cluster() {
  local i
  for i in 1 2 3; do lc_start_member "$i" new "$LC_CLUSTER" "$@"; done
}

lc_stop_member() {
  local i=$1 sig=${2:-TERM} pid=${LC_PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  LC_EXIT[$i]=$?
  LC_PIDS[$i]=""
}

lc_ctl() {
  ETCDCTL_API=3 etcdctl --endpoints="${LC_ENDPOINTS:-$(lc_endpoints)}" \
    --cacert "$LC_WORK/pki/ca.crt" --cert "$LC_WORK/pki/clients/admin.crt" \
    --key "$LC_WORK/pki/clients/admin.key" --dial-timeout 2s --command-timeout 5s "$@"
}
lc_ctl_at() {
  local i=$1
  shift
  LC_ENDPOINTS=$(lc_client_url "$i") lc_ctl "$@"
}

# lc_wait_healthy [DEADLINE_S] [I...]: 0 once every listed (default: running) member is healthy
# and started in the member list (its client URL published): kvserver answers health as soon as
# it has a leader, a moment before its publish applies, and until then `--cluster` skips it.
lc_wait_healthy() {
  local deadline=$((SECONDS + ${1:-30}))
  shift || true
  local eps members url published
  eps=$(lc_endpoints "$@")
  while [ $SECONDS -lt $deadline ]; do
    if LC_ENDPOINTS=$eps lc_ctl endpoint health >/dev/null 2>&1; then
      members=$(LC_ENDPOINTS=$eps lc_ctl member list 2>/dev/null)
      published=1
      for url in ${eps//,/ }; do
        awk -v url="$url" 'index($0, ", started, ") && index($0, url) { found = 1 }
                           END { exit !found }' <<<"$members" || published=0
      done
      [ $published = 1 ] && return 0
    fi
    sleep 0.2 # polling interval, bounded by the deadline above
  done
  return 1
}

# The index of the running member that reports itself leader (endpoint status), or nothing.
lc_leader_index() {
  local i out
  for i in $(lc_running); do
    out=$(lc_ctl_at "$i" endpoint status -w json 2>/dev/null) || continue
    local id leader
    id=$(sed -n 's/.*"member_id":\([0-9]*\).*/\1/p' <<<"$out" | head -1)
    leader=$(sed -n 's/.*"leader":\([0-9]*\).*/\1/p' <<<"$out" | head -1)
    [ -n "$id" ] && [ "$id" = "$leader" ] && { echo "$i"; return 0; }
  done
  return 1
}

lc_show_logs() {
  local f
  for f in "${LC_WORK:-/nonexistent}"/n*.log; do
    [ -f "$f" ] && { echo "--- $f (last 25 lines)"; tail -25 "$f"; } >&2
  done
  return 0
}

lc_cleanup() {
  local i
  for i in "${!LC_PIDS[@]}"; do
    [ -n "${LC_PIDS[$i]}" ] && kill -TERM "${LC_PIDS[$i]}" 2>/dev/null
  done
  for i in "${!LC_PIDS[@]}"; do
    [ -n "${LC_PIDS[$i]}" ] && wait "${LC_PIDS[$i]}" 2>/dev/null
  done
  LC_PIDS=()
  [ "${LC_KEEP:-0}" = 1 ] || [ -z "${LC_WORK:-}" ] || rm -rf "$LC_WORK"
}
