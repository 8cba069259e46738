# shellcheck shell=bash
# test-hosts-rootfs.sh: builds the Debian 12 rootfs every local test host boots from (sourced by
# scripts/test-hosts, which defines STATE_DIR, ROOTFS, KEY and the log/die helpers).
#
# Contract: after ensure_rootfs returns, $ROOTFS is a complete, prepared tree; it is built in a
# temporary sibling directory and renamed into place only when finished, so an interrupted build is
# never booted. The tree is shared read-only by all nodes (each node writes to its own overlay upper
# dir), so it must never change while nodes run. Preparation follows DESIGN.md §5: root's
# authorized_keys is the test key; no /etc/hostname (nspawn -M sets it); no host keys (each node makes
# its own at first sshd start); an empty machine-id (each boot gets nspawn's random one);
# systemd-firstboot masked (it would wait for a console answer).

# Prints the Debian mirror apt uses here (first "URIs:" of a deb822 stanza whose Suites include
# bookworm, else a classic "deb URL bookworm" line): the only mirror this machine may reach.
apt_mirror() {
  local f mirror=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '
      function flush() { if (!done && uris != "" && suites ~ /(^| )bookworm( |$)/ && types ~ /(^| )deb( |$)/) { print uris; done = 1 } }
      /^[[:space:]]*$/ { flush(); uris = ""; suites = ""; types = ""; next }
      /^URIs:/   { uris = $2 }
      /^Suites:/ { $1 = ""; suites = $0 }
      /^Types:/  { $1 = ""; types = $0 }
      END { flush() }' "$f")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
  fi
  [ -n "$mirror" ] || die "no bookworm mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  printf '%s\n' "$mirror"
}

# Writes the test key's public half as root's only authorized key in rootfs $1.
install_authorized_key() {
  local root=$1
  install -d -m 0700 "$root/root/.ssh"
  install -m 0600 "$KEY.pub" "$root/root/.ssh/authorized_keys"
}

# Applies DESIGN.md §5's preparation to the fresh tree $1.
prepare_rootfs() {
  local root=$1
  install_authorized_key "$root"
  rm -f "$root/etc/hostname" "$root"/etc/ssh/ssh_host_*
  # sshd refuses to start without host keys, and Debian's unit first runs `sshd -t`: reset the list
  # so the keys are generated before that check. Every node thus gets its own keys at first boot.
  install -d "$root/etc/systemd/system/ssh.service.d"
  cat >"$root/etc/systemd/system/ssh.service.d/10-kvp-host-keys.conf" <<'UNIT'
# Written by scripts/test-hosts: each node generates its own host keys at first start.
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
  # provision opens several sessions per node at once; the default 10:30:100 drops some of them.
  install -d "$root/etc/ssh/sshd_config.d"
  printf '# Written by scripts/test-hosts.\nUseDNS no\nMaxStartups 64:30:128\n' \
    >"$root/etc/ssh/sshd_config.d/10-kvp-test-hosts.conf"
  : >"$root/etc/machine-id"
  install -d "$root/var/lib/dbus"
  ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"
  ln -sfn /dev/null "$root/etc/systemd/system/systemd-firstboot.service"
  # debootstrap copies this machine's files; nodes get their own (each node's list is written at up).
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  rm -f "$root"/var/cache/apt/archives/*.deb
}

# Unmounts anything left mounted below $1 (an interrupted debootstrap leaves proc/sys mounted), then
# removes it without crossing into other filesystems.
remove_tree() {
  local dir=$1 mnt
  [ -e "$dir" ] || return 0
  # Deepest first, so nested mounts come off before their parents.
  while read -r mnt; do
    umount -l "$mnt" || die "cannot unmount $mnt below $dir"
  done < <(awk -v d="$(realpath "$dir")/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$dir"
}

# Builds $ROOTFS once; a no-op when it exists. Prints how long the build took.
ensure_rootfs() {
  if [ -d "$ROOTFS" ]; then
    # The key may have been regenerated since the build: the image must carry the current one.
    cmp -s "$KEY.pub" "$ROOTFS/root/.ssh/authorized_keys" || install_authorized_key "$ROOTFS"
    return 0
  fi
  local tmp mirror start_s
  for tmp in "$STATE_DIR"/rootfs.tmp-*; do
    [ -e "$tmp" ] && { log "removing unfinished rootfs build $tmp"; remove_tree "$tmp"; }
  done
  mirror=$(apt_mirror)
  tmp="$STATE_DIR/rootfs.tmp-$$"
  start_s=$(date +%s.%N)
  log "building the Debian 12 rootfs from $mirror (once per machine; log: $STATE_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,ca-certificates \
    bookworm "$tmp" "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$STATE_DIR/debootstrap.log" >&2
    remove_tree "$tmp"
    die "debootstrap failed (full log: $STATE_DIR/debootstrap.log)"
  fi
  prepare_rootfs "$tmp"
  mv -T "$tmp" "$ROOTFS"
  log "rootfs built in $(elapsed_s "$start_s") s ($(du -sm "$ROOTFS" | cut -f1) MB): $ROOTFS"
}
