# shellcheck shell=bash
# test-hosts-net.sh: the private network of the local test hosts (sourced by scripts/test-hosts).
#
# Contract: one bridge $BRIDGE holding $BRIDGE_CIDR on this machine; node hN lives in network
# namespace kvp-hN, reached through the veth pair kvpv-hN (on the bridge) <-> eth0 (inside), with
# address $SUBNET_PREFIX.(10+N)/24. Everything created here carries the kvp prefix, and only such
# names are ever deleted: no other network configuration of this machine is touched. No default
# route is set inside the nodes and forwarding is not enabled, so test traffic stays on this subnet.

node_netns() { printf 'kvp-%s\n' "$1"; }
node_veth() { printf 'kvpv-%s\n' "$1"; }
node_address() { printf '%s.%d\n' "$SUBNET_PREFIX" $((10 + ${1#h})); }

ensure_bridge() {
  if ! ip link show dev "$BRIDGE" >/dev/null 2>&1; then
    ip link add name "$BRIDGE" type bridge
  fi
  ip addr replace "$BRIDGE_CIDR" dev "$BRIDGE"
  ip link set dev "$BRIDGE" up
}

# Creates (or completes) node $1's namespace and veth. Idempotent.
ensure_node_net() {
  local node=$1 ns veth
  ns=$(node_netns "$node")
  veth=$(node_veth "$node")
  [ -e "/run/netns/$ns" ] || ip netns add "$ns"
  if ! ip -n "$ns" link show dev eth0 >/dev/null 2>&1; then
    ip link del dev "$veth" 2>/dev/null || true # half-made pair from an interrupted run
    ip link add name "$veth" type veth peer name eth0 netns "$ns"
  fi
  ip link set dev "$veth" master "$BRIDGE" up
  ip -n "$ns" link set dev lo up
  ip -n "$ns" addr replace "$(node_address "$node")/24" dev eth0
  ip -n "$ns" link set dev eth0 up
}

remove_node_net() {
  local node=$1 ns veth
  ns=$(node_netns "$node")
  veth=$(node_veth "$node")
  ip link show dev "$veth" >/dev/null 2>&1 && ip link del dev "$veth"
  [ -e "/run/netns/$ns" ] && ip netns del "$ns"
  return 0
}

# Lists every node name that has a kvp-hN namespace, whether or not the state dir knows it.
netns_nodes() {
  ip netns list 2>/dev/null | awk '$1 ~ /^kvp-h[0-9]+$/ { sub(/^kvp-/, "", $1); print $1 }'
}

remove_bridge() {
  ip link show dev "$BRIDGE" >/dev/null 2>&1 && ip link del dev "$BRIDGE"
  return 0
}
