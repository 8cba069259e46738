#!/usr/bin/env bash
# e2e: `provision up` with the kvserver flavour - the same steps as the etcd flavour
# (provision_up_test.sh covers the faults) - on 3 local test hosts, judged by the real etcdctl:
# bring-up from nothing, `endpoint health --cluster`, `member list`, a no-op re-run that restarts
# nothing, and a `reset` that leaves nothing behind.
# Usage: provision_up_kvserver_test.sh PROVISION_BINARY KVSERVER_BINARY. Needs root; never skips.
set -uo pipefail

PROVISION=$(realpath "${1:?usage: provision_up_kvserver_test.sh PROVISION KVSERVER}")
KVSERVER=$(realpath "${2:?usage: provision_up_kvserver_test.sh PROVISION KVSERVER}")
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TH=$REPO_DIR/scripts/test-hosts
STATE_DIR=${TEST_HOSTS_DIR:-/var/lib/kvprovision-test-hosts}
WORK=$(mktemp -d /tmp/provision-up-kv-e2e.XXXXXX)
INV=$WORK/inv.yaml
# shellcheck source=tests/e2e/lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"
cleanup() {
  "$TH" down >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "FAIL: must run as root (test hosts)" >&2; exit 1; }

node_ssh() {
  ssh -F /dev/null -i "$STATE_DIR/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o ConnectTimeout=5 -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$STATE_DIR/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -l root "10.213.0.$((10 + ${1#h}))" "$2" </dev/null
}
etcdctl_() {
  ETCDCTL_API=3 timeout 20 etcdctl --endpoints=https://10.213.0.11:2379 --cacert="$WORK/pki/ca.crt" \
    --cert="$WORK/pki/clients/admin.crt" --key="$WORK/pki/clients/admin.key" "$@"
}

"$TH" up 3 --inventory "$INV" --flavor kvserver >/dev/null 2>&1 || { echo "FAIL: test-hosts up 3" >&2; exit 1; }
sed -i "s|^  binary: .*|  binary: $KVSERVER|" "$INV"
rm -rf "$WORK/pki"
# Whatever an earlier run left on these hosts goes first.
"$PROVISION" reset -i "$INV" --yes >/dev/null 2>&1

out=$("$PROVISION" up -i "$INV" 2>&1)
rc=$?
echo "$out" | grep -v '^  {'
check "up (kvserver, 3 nodes): exit 0" [ "$rc" -eq 0 ]
health=$(etcdctl_ endpoint health --cluster 2>&1)
healthy=$(grep -c 'is healthy' <<<"$health")
check "etcdctl endpoint health --cluster: 3 healthy" [ "$healthy" -eq 3 ]
[ "$healthy" -eq 3 ] || echo "$health"
check "etcdctl member list: 3 started members" [ "$(etcdctl_ member list 2>/dev/null | grep -c ', started, h')" -eq 3 ]
check "the unit runs kvserver" [ "$(node_ssh h2 'systemctl show -p ExecStart kvserver.service' | grep -c '/usr/local/bin/kvserver')" -eq 1 ]
before=$(for n in h1 h2 h3; do node_ssh $n 'systemctl show -p ActiveEnterTimestamp -p MainPID kvserver.service'; done)
out=$("$PROVISION" up -i "$INV" 2>&1)
rc=$?
after=$(for n in h1 h2 h3; do node_ssh $n 'systemctl show -p ActiveEnterTimestamp -p MainPID kvserver.service'; done)
check "second up: exit 0, unchanged" bash -c "[ $rc -eq 0 ] && grep -q 'up: unchanged' <<<\"\$1\"" _ "$out"
check "second up: nothing restarted" [ "$before" = "$after" ]
"$PROVISION" reset -i "$INV" --yes >/dev/null 2>&1
nothing_left() {
  local n
  for n in h1 h2 h3; do
    [ -z "$(node_ssh $n 'ls -d /etc/systemd/system/kvserver.service /usr/local/bin/kvserver /etc/kvserver /var/lib/kvserver 2>/dev/null; true')" ] || return 1
  done
}
check "reset: nothing left" nothing_left
echo "provision_up_kvserver_test: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
