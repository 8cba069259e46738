#!/usr/bin/env bash
# e2e test of `provision up/plan/status/reset` with the etcd flavour (Debian's etcd 3.4 copied to
# the nodes) on local test hosts (scripts/test-hosts). One set of hosts is shared by every case:
#   faults first, each refused at preflight with the node named and NOTHING changed on any node
#   (missing binary, unknown/changed host key, wrong key, no sudo, unreachable node, port in use, address
#   not in the certificate's SANs); then 3-node bring-up from nothing judged by the real etcdctl;
#   a second `up` restarts nothing; a changed file restarts only its node; `up` killed mid-way and
#   re-run converges to one cluster; 5 nodes; `reset` leaves nothing behind.
# Usage: provision_up_test.sh PROVISION_BINARY. Needs root; never skips.
set -uo pipefail

PROVISION=$(realpath "${1:?usage: provision_up_test.sh PROVISION_BINARY}")
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TH=$REPO_DIR/scripts/test-hosts
STATE_DIR=${TEST_HOSTS_DIR:-/var/lib/kvprovision-test-hosts}
WORK=$(mktemp -d /tmp/provision-up-e2e.XXXXXX)
INV=$WORK/inv.yaml
# shellcheck source=tests/e2e/lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

cleanup() {
  [ -n "${UP_PID:-}" ] && kill "$UP_PID" 2>/dev/null
  "$TH" down >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "FAIL: must run as root (test hosts)" >&2; exit 1; }
[ -x "$PROVISION" ] || { echo "FAIL: $PROVISION is not an executable" >&2; exit 1; }

addr() { echo "10.213.0.$((10 + ${1#h}))"; }
node_ssh() { # node_ssh NODE COMMAND
  ssh -F /dev/null -i "$STATE_DIR/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o ConnectTimeout=5 -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$STATE_DIR/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -l root "$(addr "$1")" "$2" </dev/null
}
# What `up` may have left on a node: empty when nothing.
# shellcheck disable=SC2016 # $p expands on the node
leftovers() { node_ssh "$1" 'for p in /etc/systemd/system/etcd.service /usr/local/bin/etcd /etc/etcd /var/lib/etcd; do [ -e "$p" ] && echo "$p"; done; true'; }
untouched() { # untouched NODE...: no file of ours on any of them
  local n
  for n in "$@"; do [ -z "$(leftovers "$n")" ] || return 1; done
}
active_since() { node_ssh "$1" 'systemctl show -p ActiveEnterTimestamp -p MainPID etcd.service'; }
etcdctl_() {
  ETCDCTL_API=3 timeout 20 etcdctl --endpoints="https://$(addr h1):2379" --cacert="$WORK/pki/ca.crt" \
    --cert="$WORK/pki/clients/admin.crt" --key="$WORK/pki/clients/admin.key" "$@"
}
# run_p ARGS...: runs provision; sets OUT (stdout+stderr) and RC.
run_p() {
  OUT=$("$PROVISION" "$@" 2>&1)
  RC=$?
  echo "\$ provision $*  -> rc=$RC"
}
inv_with() { # inv_with FILE SED_EXPR: a copy of the inventory with one edit
  sed "$2" "$INV" >"$1"
}

start_s=$(date +%s.%N)
"$TH" up 3 --inventory "$INV" --flavor etcd >/dev/null 2>&1 || { echo "FAIL: test-hosts up 3" >&2; exit 1; }
# A fresh PKI for this run (test-hosts keeps pki/ next to the inventory).
rm -rf "$WORK/pki"

# --- faults: each refused, each names the node and the step, nothing changed anywhere ---------
inv_with "$WORK/nobin.yaml" "s|binary: /usr/bin/etcd|binary: $WORK/no-such-etcd|"
run_p up -i "$WORK/nobin.yaml"
check "missing binary: refused" [ "$RC" -ne 0 ]
check "missing binary: says which file and step" contains "$OUT" "preflight: the etcd binary $WORK/no-such-etcd does not exist"
check "missing binary: no node touched" untouched h1 h2 h3

: >"$WORK/empty_known_hosts"
inv_with "$WORK/unknown.yaml" "s|known_hosts: .*|known_hosts: $WORK/empty_known_hosts|"
run_p plan -i "$WORK/unknown.yaml"
check "unknown host key: refused" [ "$RC" -ne 0 ]
check "unknown host key: node named" contains "$OUT" "node h1 ("
run_p plan -i "$WORK/unknown.yaml" --accept-new-host-keys
check "unknown host key: --accept-new-host-keys records it (plan ok)" [ "$RC" -eq 0 ]
check "unknown host key: 3 keys recorded" [ "$(grep -c . "$WORK/empty_known_hosts")" -ge 3 ]
check "plan touches nothing" untouched h1 h2 h3
check "plan: every node would be created and started" contains "$OUT" "plan: 3 of 3 node(s) would change"

# h1's entry replaced by h2's key: h1 now presents a "changed" key.
# h1 filed with h2's keys (both the "ADDR" and "[ADDR]:22" forms): h1 now presents a changed key.
grep -v -e "^$(addr h1) " -e "^\[$(addr h1)\]:22 " "$STATE_DIR/known_hosts" >"$WORK/changed_known_hosts"
grep "^$(addr h2) " "$STATE_DIR/known_hosts" | sed "s/^$(addr h2) /$(addr h1) /" >>"$WORK/changed_known_hosts"
inv_with "$WORK/changed.yaml" "s|known_hosts: .*|known_hosts: $WORK/changed_known_hosts|"
run_p up -i "$WORK/changed.yaml" --accept-new-host-keys
check "changed host key: refused even with --accept-new-host-keys" [ "$RC" -ne 0 ]
check "changed host key: names node h1 and a fingerprint" contains "$OUT" "node h1 ("
check "changed host key: fingerprint shown" contains "$OUT" "SHA256:"
check "changed host key: nothing changed" untouched h1 h2 h3

ssh-keygen -q -t ed25519 -N '' -f "$WORK/wrong_key" >/dev/null
inv_with "$WORK/wrongkey.yaml" "s|identity_file: .*|identity_file: $WORK/wrong_key|"
run_p up -i "$WORK/wrongkey.yaml"
check "wrong key: refused, node named" bash -c "[ $RC -ne 0 ] && grep -qF 'node h1 (' <<<\"\$1\"" _ "$OUT"
check "wrong key: nothing changed" untouched h1 h2 h3

# A login user without sudo on the nodes (minimal Debian has no sudo at all).
for n in h1 h2 h3; do
  node_ssh $n 'id op >/dev/null 2>&1 || useradd -m op; install -d -o op -m 700 ~op/.ssh; install -o op -m 600 /root/.ssh/authorized_keys ~op/.ssh/authorized_keys'
done
inv_with "$WORK/nosudo.yaml" "s|user: root|user: op\n  sudo: true|"
run_p up -i "$WORK/nosudo.yaml"
check "no sudo: refused" [ "$RC" -ne 0 ]
check "no sudo: node named, sudo explained" bash -c "grep -qF 'node h1 (' <<<\"\$1\" && grep -qF 'sudo is not installed on this node' <<<\"\$1\"" _ "$OUT"
check "no sudo: nothing changed" untouched h1 h2 h3

inv_with "$WORK/unreach.yaml" "s|address: $(addr h3)|address: 10.213.0.99|; s|^ssh:|ssh:\n  connect_timeout: 2s|"
run_p up -i "$WORK/unreach.yaml"
check "unreachable node: refused" [ "$RC" -ne 0 ]
check "unreachable node: h3 named" contains "$OUT" "node h3 (10.213.0.99:22)"
check "unreachable node: the others untouched" untouched h1 h2 h3

# Something else holds h2's peer port (systemd-socket-activate is in every systemd install).
node_ssh h2 "systemd-run -q --unit=squatter systemd-socket-activate -l $(addr h2):2380 /bin/true"
run_p up -i "$INV"
node_ssh h2 "systemctl stop squatter" >/dev/null 2>&1
check "port in use: refused" [ "$RC" -ne 0 ]
check "port in use: node, port and field named" contains "$OUT" "node h2 ($(addr h2)): preflight: port 2380 is already in use by \`systemd-socket-"
check "port in use: nothing changed" untouched h1 h2 h3

# A certificate for h1 that does not carry h1's address (issued for another one).
inv_with "$WORK/wrongaddr.yaml" "s|address: $(addr h1)|address: 10.213.0.111|"
run_p certs generate -i "$WORK/wrongaddr.yaml"
run_p up -i "$INV"
check "address not in SANs: refused" [ "$RC" -ne 0 ]
check "address not in SANs: cert and address named" contains "$OUT" "h1/server.crt is not valid for the node's address $(addr h1)"
check "address not in SANs: nothing changed" untouched h1 h2 h3
run_p certs generate -i "$INV"
check "certs generate re-issues h1's certificates" contains "$OUT" "reissued"

# --- 3-node bring-up from nothing ---------------------------------------------------------------
t0=$(date +%s.%N)
run_p up -i "$INV"
echo "$OUT"
echo "up (3 nodes, from nothing): $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}') s"
check "up 3: exit 0" [ "$RC" -eq 0 ]
check "up 3: health table printed" contains "$OUT" "IS LEADER"
health=$(etcdctl_ endpoint health --cluster 2>&1)
check "etcdctl endpoint health --cluster: 3 healthy" [ "$(grep -c 'is healthy' <<<"$health")" -eq 3 ]
members=$(etcdctl_ member list 2>&1)
check "etcdctl member list: h1 h2 h3 started" bash -c "for n in h1 h2 h3; do grep -q \"started, \$n, https://\" <<<\"\$1\" || exit 1; done" _ "$members"
check "keys are 0600 root on the node" [ "$(node_ssh h2 'stat -c %a:%U /etc/etcd/server.key /etc/etcd/peer.key' | sort -u)" = "600:root" ]
check "data dir is 0700" [ "$(node_ssh h2 'stat -c %a /var/lib/etcd')" = 700 ]
ca_line=$(sed -n 2p "$WORK/pki/ca.key")
ca_key_absent() {
  local n
  for n in h1 h2 h3; do
    [ -z "$(node_ssh $n "grep -rlF -- '$1' /etc /usr/local /var/lib/etcd 2>/dev/null; true")" ] || return 1
  done
}
check "the CA key never left the workstation (no node file holds it)" ca_key_absent "$ca_line"
run_p status -i "$INV"
check "status: exit 0, one leader" bash -c "[ $RC -eq 0 ] && grep -q 'status: 3/3 healthy, leader h' <<<\"\$1\"" _ "$OUT"
run_p status -i "$INV" -o json
check "status -o json: healthy" contains "$OUT" '{"healthy":true'

# --- a second up changes nothing and restarts nothing ---------------------------------------
before=$(for n in h1 h2 h3; do active_since $n; done)
t0=$(date +%s.%N)
run_p up -i "$INV"
echo "up (no-op): $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}') s"
after=$(for n in h1 h2 h3; do active_since $n; done)
check "second up: exit 0 and says unchanged" bash -c "[ $RC -eq 0 ] && grep -q 'up: unchanged' <<<\"\$1\"" _ "$OUT"
check "second up: no unit restarted (ActiveEnterTimestamp, MainPID)" [ "$before" = "$after" ]
run_p plan -i "$INV"
check "plan on a converged cluster: nothing" contains "$OUT" "plan: 0 of 3 node(s) would change"

# --- a file changed on one node: only that node restarts ----------------------------------------
h1_before=$(active_since h1)
h3_before=$(active_since h3)
node_ssh h2 'echo "# tampered" >> /etc/etcd/ca.crt'
run_p plan -i "$INV"
check "plan names the changed file on h2 only" bash -c "grep -q 'update /etc/etcd/ca.crt' <<<\"\$1\" && grep -q 'restart etcd.service' <<<\"\$1\" && grep -q 'plan: 1 of 3' <<<\"\$1\"" _ "$OUT"
h2_before=$(active_since h2)
run_p up -i "$INV"
check "partial change: up exit 0" [ "$RC" -eq 0 ]
check "partial change: h2 restarted" [ "$(active_since h2)" != "$h2_before" ]
check "partial change: h1 and h3 not restarted" [ "$(active_since h1)$(active_since h3)" = "$h1_before$h3_before" ]

# --- reset, then an interrupted up that is re-run ---------------------------------------------
run_p reset -i "$INV"
check "reset without --yes is refused" bash -c "[ $RC -ne 0 ] && grep -q -- '--yes' <<<\"\$1\"" _ "$OUT"
check "reset without --yes changed nothing" [ -n "$(leftovers h1)" ]
run_p reset -i "$INV" --yes
check "reset: exit 0" [ "$RC" -eq 0 ]
check "reset leaves nothing behind" untouched h1 h2 h3
"$PROVISION" up -i "$INV" >"$WORK/interrupted.log" 2>&1 &
UP_PID=$!
# Kill it once it has started pushing to the nodes (poll, bounded).
for _ in $(seq 1 100); do grep -q '^push ' "$WORK/interrupted.log" && break; sleep 0.05; done
kill -KILL "$UP_PID" 2>/dev/null
wait "$UP_PID" 2>/dev/null
UP_PID=
echo "interrupted after: $(tail -n1 "$WORK/interrupted.log")"
run_p up -i "$INV"
check "interrupted up, re-run: exit 0" [ "$RC" -eq 0 ]
ids=$(etcdctl_ endpoint status --cluster -w json 2>/dev/null | grep -o '"cluster_id":[0-9]*' | sort -u | wc -l)
check "interrupted up, re-run: one cluster (one cluster_id over 3 members)" [ "$ids" -eq 1 ]
check "interrupted up, re-run: 3 members" [ "$(etcdctl_ member list 2>/dev/null | grep -c started)" -eq 3 ]

# --- 5 nodes ----------------------------------------------------------------------------------
run_p reset -i "$INV" --yes
"$TH" up 5 --inventory "$INV" --flavor etcd >/dev/null 2>&1 || fail "test-hosts up 5"
t0=$(date +%s.%N)
run_p up -i "$INV"
echo "up (5 nodes, from nothing): $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}') s"
check "up 5: exit 0" [ "$RC" -eq 0 ]
check "up 5: etcdctl sees 5 healthy" [ "$(etcdctl_ endpoint health --cluster 2>&1 | grep -c 'is healthy')" -eq 5 ]
# A member stopped: status says so, names it, and exits non-zero.
node_ssh h4 'systemctl stop etcd.service'
run_p status -i "$INV"
check "status with h4 stopped: exit 1, h4 named" bash -c "[ $RC -eq 1 ] && grep -q 'h4' <<<\"\$1\"" _ "$OUT"
run_p up -i "$INV"
check "up starts the stopped member again" [ "$RC" -eq 0 ]
run_p reset -i "$INV" --yes
check "reset (5 nodes): exit 0" [ "$RC" -eq 0 ]
check "reset (5 nodes): nothing left" untouched h1 h2 h3 h4 h5

echo "provision_up_test: $checks checks, $failures failed, $(awk -v s="$start_s" -v e="$(date +%s.%N)" 'BEGIN{printf "%.0f", e-s}') s"
[ "$failures" -eq 0 ]
