# shellcheck shell=bash
# test-hosts-node.sh: starting and stopping one local test host (sourced by scripts/test-hosts).
#
# Contract: node hN is one detached `systemd-nspawn --boot` of $ROOTFS with its own overlay upper dir
# $NODES_DIR/hN/upper, its own network namespace (test-hosts-net.sh) and, when PID 1 of this machine
# is not systemd, its own cgroup kvp-hN in every cgroup hierarchy nspawn uses (else all containers
# share one cgroup and see each other's services: DESIGN.md §5). The nspawn PID is recorded in
# $NODES_DIR/hN/pid and its output goes to $NODES_DIR/hN/console.log. A recorded PID counts as our
# node only while /proc shows it running systemd-nspawn with this node's exact arguments, so a
# recycled PID is never signalled. Processes are ended only by PID: that one, and those left in the
# node's own cgroups when nspawn died (a killed nspawn leaves its container's init running).

node_dir() { printf '%s/%s\n' "$NODES_DIR" "$1"; }
node_upper() { printf '%s/upper\n' "$(node_dir "$1")"; }

# The cgroup directories node $1's nspawn runs in; empty when systemd (PID 1) manages that itself.
node_cgroups() {
  [ -d /run/systemd/system ] && return 0
  local fs
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    printf '/sys/fs/cgroup/kvp-%s\n' "$1"
    return 0
  fi
  for fs in systemd unified; do
    [ -f "/sys/fs/cgroup/$fs/cgroup.procs" ] && printf '/sys/fs/cgroup/%s/kvp-%s\n' "$fs" "$1"
  done
  return 0
}

# The exact argument list of node $1's nspawn, one per line; also what node_pid matches against.
nspawn_args() {
  local node=$1
  printf '%s\n' systemd-nspawn "--directory=$ROOTFS" "--overlay=$ROOTFS:$(node_upper "$node"):/" \
    "--machine=$node" --boot "--network-namespace-path=/run/netns/$(node_netns "$node")" \
    --console=passive --link-journal=no --resolv-conf=off
  if [ ! -d /run/systemd/system ]; then
    printf '%s\n' --register=no --keep-unit
  fi
}

# Prints node $1's nspawn PID if that process is alive and is our nspawn; fails otherwise.
node_pid() {
  local node=$1 pid state
  pid=$(cat "$(node_dir "$node")/pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # A zombie has exited already: nobody may have reaped it, but it is not running.
  state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  cmp -s <(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) <(nspawn_args "$node") || return 1
  printf '%s\n' "$pid"
}

# Boots node $1 of an $2-node set in the background; returns at once (readiness is the caller's
# poll). Its /etc/hosts goes into the upper dir before boot (nothing has it mounted yet).
start_node() {
  local node=$1 n=$2 dir cg
  dir=$(node_dir "$node")
  install -d "$(node_upper "$node")/etc"
  write_node_hosts_file "$(node_upper "$node")/etc/hosts" "$n"
  ensure_node_net "$node"
  local cgroups=()
  while read -r cg; do
    mkdir -p "$cg"
    cgroups+=("$cg")
  done < <(node_cgroups "$node")
  rm -f "$dir/pid"
  # shellcheck disable=SC2034,SC2004 # read by wait_ready (test-hosts-ready.sh)
  BOOT_STARTED[$node]=$(date +%s.%N)
  local args=()
  mapfile -t args < <(nspawn_args "$node")
  # The child shell joins the node's cgroups and records its own PID before exec'ing nspawn, so the
  # recorded PID is nspawn's. setsid detaches it from our terminal and session; 9>&- keeps the
  # node from inheriting scripts/test-hosts' lock fd (it would hold the lock for its whole life).
  setsid bash -c '
    pidfile=$1; shift
    while [ "$1" != -- ]; do echo $$ >"$1/cgroup.procs" || exit 1; shift; done
    shift
    echo $$ >"$pidfile"
    exec "$@"' kvp-start "$dir/pid" "${cgroups[@]}" -- "${args[@]}" \
    </dev/null >>"$dir/console.log" 2>&1 9>&- &
}

# Prints the PIDs of every process in node $1's cgroups (nspawn and the container it runs).
node_cgroup_pids() {
  local cg
  while read -r cg; do
    [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} +
  done < <(node_cgroups "$1") | sort -u
}

# Kills what is left in node $1's cgroups and removes them, innermost first (the node's systemd
# made children). Leftovers exist when nspawn itself died or was killed: the container's init then
# outlives it. Every such PID is ours, as only our launcher joined these cgroups.
remove_node_cgroups() {
  local node=$1 pids cg deadline
  deadline=$(($(date +%s) + 10))
  while pids=$(node_cgroup_pids "$node") && [ -n "$pids" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$node: processes $(echo "$pids" | tr '\n' ' ')survive SIGKILL"
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $pids 2>/dev/null || true # some may exit between the read and the kill
    sleep 0.05 # poll interval, bounded by the deadline above
  done
  while read -r cg; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} + || die "$node: cannot remove cgroup $cg"
  done < <(node_cgroups "$node")
}

# Stops nodes "$@" together: TERM to each nspawn (systemd inside halts), poll until all exited, KILL
# the ones that have not after $STOP_TIMEOUT_S, then kill any leftovers in their cgroups and remove
# their cgroups, network and upper dirs.
stop_nodes() {
  local node pid deadline
  for node in "$@"; do
    pid=$(node_pid "$node") && kill -TERM "$pid"
  done
  deadline=$(($(date +%s) + STOP_TIMEOUT_S))
  while :; do
    local alive=()
    for node in "$@"; do node_pid "$node" >/dev/null && alive+=("$node"); done
    [ ${#alive[@]} -eq 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "nodes ${alive[*]} did not halt within ${STOP_TIMEOUT_S} s: killing them"
      for node in "${alive[@]}"; do pid=$(node_pid "$node") && kill -KILL "$pid"; done
      break # remove_node_cgroups waits for them and their containers
    fi
    sleep 0.05 # poll interval, bounded by the deadline above
  done
  for node in "$@"; do
    remove_node_cgroups "$node"
    remove_node_net "$node"
    remove_tree "$(node_dir "$node")"
  done
}
