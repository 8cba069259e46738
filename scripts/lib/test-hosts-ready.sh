# shellcheck shell=bash
# test-hosts-ready.sh: waiting for booted test hosts, and the files that describe them to the
# workstation: known_hosts, each node's /etc/hosts, the provision inventory (sourced by
# scripts/test-hosts).
#
# Contract: host keys come only from each node's own filesystem (the ssh_host_*_key.pub files that
# `ssh-keygen -A` wrote into its overlay upper dir), never from what answers on the network; SSH to a
# node is always made with StrictHostKeyChecking=yes against $KNOWN_HOSTS. known_hosts holds, for
# every key, a "[ADDR]:22" line and a plain "ADDR" line: OpenSSH 9.2 looks port-22 hosts up under
# the plain name only, libssh 0.10 accepts either (both checked on this machine). Files are written
# to a temp name and renamed, so readers never see half a file.

SSH_OPTS=(-F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=3
  -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null
  -o LogLevel=ERROR -l root)

node_ssh() {
  local node=$1
  shift
  ssh "${SSH_OPTS[@]}" "$(node_address "$node")" "$@"
}

# Writes $2 to file $1 atomically.
write_file() {
  local tmp
  tmp=$(mktemp "$1.tmp.XXXXXX")
  printf '%s' "$2" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}

# The known_hosts lines for nodes "$@", from the host public keys on their own filesystems.
known_hosts_lines() {
  local node addr pub type key _
  for node in "$@"; do
    addr=$(node_address "$node")
    for pub in "$(node_upper "$node")"/etc/ssh/ssh_host_*_key.pub; do
      [ -s "$pub" ] || continue
      read -r type key _ <"$pub" || continue
      [ -n "$key" ] || continue
      printf '[%s]:22 %s %s\n%s %s %s\n' "$addr" "$type" "$key" "$addr" "$type" "$key"
    done
  done
}

# Rewrites $KNOWN_HOSTS for nodes "$@" when their keys changed.
refresh_known_hosts() {
  local content
  content=$(known_hosts_lines "$@")
  [ -n "$content" ] && content+=$'\n'
  [ -f "$KNOWN_HOSTS" ] && [ "$(cat "$KNOWN_HOSTS")"$'\n' = "$content" ] && return 0
  write_file "$KNOWN_HOSTS" "$content"
}

# Polls nodes "$@" until each runs our nspawn, accepts the test key over SSH with a known host key,
# and systemd says running or degraded; dies naming the node and its console log on any failure or
# after $BOOT_TIMEOUT_S. Prints one readiness line per node, with timings from BOOT_STARTED (set by
# start_node) for the nodes this run booted.
wait_ready() {
  local deadline node out state now
  deadline=$(($(date +%s) + BOOT_TIMEOUT_S))
  declare -A ssh_after
  local pending=("$@")
  while [ ${#pending[@]} -gt 0 ]; do
    refresh_known_hosts "$@"
    local still=()
    for node in "${pending[@]}"; do
      if ! node_pid "$node" >/dev/null; then
        # The launcher writes the pid file just before exec'ing nspawn: give it a moment.
        if [ -s "$(node_dir "$node")/pid" ] && [ ! -d "/proc/$(cat "$(node_dir "$node")/pid")" ]; then
          tail -n 30 "$(node_dir "$node")/console.log" >&2 || true
          die "$node: systemd-nspawn exited during boot (log: $(node_dir "$node")/console.log)"
        fi
        still+=("$node")
        continue
      fi
      # ssh's status is that of the last remote command, so 0 means "connected and authenticated".
      if out=$(node_ssh "$node" 'systemctl is-system-running; systemctl --failed --plain --no-legend' 2>/dev/null </dev/null); then
        local started=${BOOT_STARTED[$node]:-}
        [ -z "$started" ] || [ -n "${ssh_after[$node]:-}" ] || ssh_after[$node]=$(elapsed_s "$started")
        state=${out%%$'\n'*}
        if [ "$state" = running ] || [ "$state" = degraded ]; then
          local failed="" timing="already up"
          [ "$state" = degraded ] && failed=" (failed: $(printf '%s\n' "$out" | tail -n +2 | awk '{ printf "%s ", $1 }'))"
          [ -z "$started" ] || timing="booted: sshd after ${ssh_after[$node]} s, $state after $(elapsed_s "$started") s"
          printf '%-4s %-12s %s: %s%s\n' "$node" "$(node_address "$node")" "$state" "$timing" "$failed"
          continue
        fi
      fi
      still+=("$node")
    done
    pending=("${still[@]}")
    [ ${#pending[@]} -eq 0 ] && break
    now=$(date +%s)
    if [ "$now" -ge "$deadline" ]; then
      for node in "${pending[@]}"; do
        log "$node not ready (console log: $(node_dir "$node")/console.log):"
        tail -n 15 "$(node_dir "$node")/console.log" >&2 || true
      done
      die "nodes ${pending[*]} not ready within ${BOOT_TIMEOUT_S} s (TEST_HOSTS_BOOT_TIMEOUT_S)"
    fi
    sleep 0.1 # poll interval, bounded by the deadline above
  done
  refresh_known_hosts "$@"
}

# /etc/hosts for a node of an N-node set: every node resolves every other by its name.
hosts_file_content() {
  local n=$1 i
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
  for ((i = 1; i <= n; i++)); do printf '%s\th%d\n' "$(node_address "h$i")" "$i"; done
}

write_node_hosts_file() { write_file "$1" "$(hosts_file_content "$2")"$'\n'; }

# Brings every running node's /etc/hosts up to date with the node count $1 (nodes "${@:2}"). A
# node's upper dir shows what it has; the new file goes in through the node itself, as writing into
# a mounted overlay's upper dir from outside is undefined.
sync_hosts_files() {
  local n=$1 node want
  shift
  want=$(hosts_file_content "$n")
  for node in "$@"; do
    [ "$(cat "$(node_upper "$node")/etc/hosts" 2>/dev/null)" = "$want" ] && continue
    printf '%s\n' "$want" | node_ssh "$node" 'cat >/etc/hosts.new && mv /etc/hosts.new /etc/hosts' ||
      die "$node: cannot update /etc/hosts"
  done
}

# Writes the provision inventory $1 for flavour $2 and nodes "${@:3}" (schema: DESIGN/README).
# The cluster token is kept when the file already has one, so re-running up changes nothing.
write_inventory() {
  local out=$1 flavor=$2 token binary node content
  shift 2
  token=""
  [ -f "$out" ] && token=$(sed -n 's/^  token: \(local-[0-9a-f]\{1,\}\)$/\1/p;T;q' "$out")
  [ -n "$token" ] || token=local-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  if [ "$flavor" = etcd ]; then binary=/usr/bin/etcd; else binary=$REPO_DIR/build/bin/kvserver; fi
  content="# Generated by: scripts/test-hosts up $# --inventory $out --flavor $flavor
# Local test hosts (systemd-nspawn on this machine); regenerated by every such \`up\`.
cluster:
  name: local
  token: $token
pki:
  dir: $(dirname "$out")/pki
server:
  flavor: $flavor
  binary: $binary
ssh:
  user: root
  port: 22
  identity_file: $KEY
  known_hosts: $KNOWN_HOSTS
nodes:
"
  for node in "$@"; do
    content+="  - name: $node
    address: $(node_address "$node")
    dns: [$node]
"
  done
  install -d "$(dirname "$out")"
  write_file "$out" "$content"
  log "inventory written: $out"
}
