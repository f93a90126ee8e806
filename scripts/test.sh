#!/usr/bin/env bash
# The test command (README; called by .ci/run). As root on a fresh Debian 12 machine it
# prepares the host idempotently — packages, Debian's registry service off, device modes, the
# unprivileged test user with a subuid range — and runs the whole suite; the tests run kiste as
# that user. As a normal user it checks the prerequisites and runs the suite as that user.
# Extra arguments go to cargo test: `sudo scripts/test.sh --test pull layered`.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(uidmap passt slirp4netns libslirp0 fuse-overlayfs docker-registry busybox-static skopeo
  apache2-utils ca-certificates openssl procps iproute2 util-linux runc socat nftables python3 python3-pip tzdata)
TEST_USER=${KISTE_TEST_USER:-kistetest}
SUB_START=200000
SUB_COUNT=65536

fail() { echo "scripts/test.sh: $*" >&2; exit 1; }
note() { echo "scripts/test.sh: $*" >&2; }

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  note "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed"
}

# Debian's docker-registry package runs a registry on :5000 with its packaged config. Only
# that one is stopped: the tests' own registries (also docker-registry) may be running.
stop_system_registry() {
  local pids=() p
  for p in $(pgrep -x docker-registry || true); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q /etc/docker/registry/config.yml && pids+=("$p")
  done
  if [ -d /run/systemd/system ]; then
    if systemctl -q is-enabled docker-registry 2>/dev/null || systemctl -q is-active docker-registry 2>/dev/null; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    fi
  elif [ -e /etc/init.d/docker-registry ] && compgen -G '/etc/rc[2-5].d/S*docker-registry' >/dev/null; then
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
  [ ${#pids[@]} -eq 0 ] && return
  note "stopping Debian's docker-registry service"
  service docker-registry stop >/dev/null 2>&1 || true
  kill "${pids[@]}" 2>/dev/null || true
}

# Device nodes as on a normal distribution (pasta/slirp4netns need tun, fuse-overlayfs fuse).
prepare_devices() {
  if [ ! -e /dev/net/tun ]; then
    mkdir -p /dev/net && mknod /dev/net/tun c 10 200 || fail "cannot create /dev/net/tun (mknod c 10 200)"
  fi
  if [ ! -e /dev/fuse ]; then
    mknod /dev/fuse c 10 229 || fail "cannot create /dev/fuse (mknod c 10 229)"
  fi
  chmod 0666 /dev/net/tun /dev/fuse
}

# Unprivileged ICMP echo (ping sockets) for every group, as Debian's systemd sets it
# (/usr/lib/sysctl.d/50-default.conf): the built-in network's ping goes through one.
prepare_sysctls() {
  local want="0	2147483647"
  [ "$(cat /proc/sys/net/ipv4/ping_group_range)" = "$want" ] && return
  note "setting net.ipv4.ping_group_range = $want"
  echo "$want" >/proc/sys/net/ipv4/ping_group_range || fail "cannot set net.ipv4.ping_group_range"
}

# The lowest start >= SUB_START whose range overlaps none in /etc/subuid and /etc/subgid.
free_sub_start() {
  cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: -v st="$SUB_START" -v n="$SUB_COUNT" '
    NF == 3 { s[NR] = $2; e[NR] = $2 + $3 }
    END { do { moved = 0; for (i in s) if (st < e[i] && s[i] < st + n) { st = e[i]; moved = 1 } } while (moved); print st }'
}

prepare_user() {
  if ! id -u "$TEST_USER" >/dev/null 2>&1; then
    note "creating user $TEST_USER"
    # No automatic subordinate range: the fixed one below is added instead.
    useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$TEST_USER"
  fi
  local uid start f
  uid=$(id -u "$TEST_USER")
  touch /etc/subuid /etc/subgid
  start=$(free_sub_start)
  for f in /etc/subuid /etc/subgid; do
    if ! grep -q "^\($TEST_USER\|$uid\):" "$f"; then
      note "adding $TEST_USER:$start:$SUB_COUNT to $f"
      echo "$TEST_USER:$start:$SUB_COUNT" >>"$f"
    fi
  done
  # The tests' scratch directories (TMPDIR) must be reachable by the test user.
  if [ -n "${TMPDIR:-}" ] && ! setpriv --reuid="$uid" --regid="$(id -g "$TEST_USER")" --clear-groups \
    test -x "$TMPDIR" -a -r "$TMPDIR"; then
    note "TMPDIR=$TMPDIR is not accessible to $TEST_USER; using /tmp"
    export TMPDIR=/tmp
  fi
}

# cgroup v1 (this project's test machines are hybrid): the directories kiste uses for the
# test user's limits, /sys/fs/cgroup/HIERARCHY/kiste/UID, in every mounted v1 hierarchy (runc,
# in the cross-check, wants its cgroup in each), owned by the user, as an administrator
# delegates them (README "Resource limits"). They sit at the hierarchies' roots, outside the
# runner's own (nested) memory cgroup, so a container's limit is the only one that bites.
prepare_cgroups() {
  local uid root=/sys/fs/cgroup mnt d level
  uid=$(id -u "$TEST_USER")
  local mounts
  mounts=$(awk '$3 == "cgroup" { print $2 }' /proc/self/mounts)
  for d in memory cpu cpuacct cpuset pids freezer; do
    # (cpu and cpuacct may be one hierarchy, cpu,cpuacct, with both names as symlinks)
    [ "$(stat -fc %T "$root/$d/" 2>/dev/null)" = cgroupfs ] ||
      fail "the cgroup v1 hierarchy $d is not mounted at $root/$d; the cgroup tests need the v1 (hybrid) layout: boot with systemd.unified_cgroup_hierarchy=0, or mount it: mkdir -p $root/$d && mount -t cgroup -o $d cgroup $root/$d"
  done
  for mnt in $mounts; do
    case "$mnt" in "$root"/*) ;; *) continue ;; esac
    mkdir -p "$mnt/kiste/$uid" || fail "cannot create $mnt/kiste/$uid"
    chown "$uid" "$mnt/kiste/$uid" || fail "cannot chown $mnt/kiste/$uid to $TEST_USER"
    if [ -e "$mnt/cpuset.cpus" ]; then
      for level in kiste "kiste/$uid"; do
        [ -n "$(cat "$mnt/$level/cpuset.cpus")" ] || cat "$mnt/cpuset.cpus" >"$mnt/$level/cpuset.cpus"
        [ -n "$(cat "$mnt/$level/cpuset.mems")" ] || cat "$mnt/cpuset.mems" >"$mnt/$level/cpuset.mems"
      done
    fi
  done
}

# sudo's secure_path drops ~/.cargo/bin: fall back to root's or the invoking user's rustup.
find_cargo() {
  command -v cargo >/dev/null && return
  local home
  for home in "$HOME" ${SUDO_USER:+"$(getent passwd "$SUDO_USER" | cut -d: -f6)"}; do
    if [ -x "$home/.cargo/bin/cargo" ]; then
      PATH=$home/.cargo/bin:$PATH
      if [ -d "$home/.rustup" ] && [ ! -d "$HOME/.rustup" ]; then export RUSTUP_HOME=$home/.rustup; fi
      return 0
    fi
  done
  [ "$(id -u)" = 0 ] && fail "cargo not found in root's PATH; install the Rust toolchain (https://rustup.rs) or run: sudo env PATH=\"\$PATH\" $0"
  fail "cargo not found; install the Rust toolchain (https://rustup.rs)"
}

check_user_prerequisites() {
  local t
  for t in newuidmap:uidmap newgidmap:uidmap docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils openssl:openssl runc:runc; do
    PATH=$PATH:/usr/sbin:/sbin command -v "${t%%:*}" >/dev/null ||
      fail "${t%%:*} not found; install the \"${t#*:}\" package (or run this script as root)"
  done
  [ -x /bin/busybox ] || fail "/bin/busybox not found; install the \"busybox-static\" package"
  local me
  me=$(id -un)
  grep -q "^\($me\|$(id -u)\):" /etc/subuid 2>/dev/null ||
    fail "no subuid range for $me; add one: sudo usermod --add-subuids 200000-265535 --add-subgids 200000-265535 $me"
  grep -q "^\($me\|$(id -u)\):" /etc/subgid 2>/dev/null ||
    fail "no subgid range for $me; add one: sudo usermod --add-subgids 200000-265535 $me"
}

if [ "$(id -u)" = 0 ]; then
  install_packages
  stop_system_registry
  prepare_devices
  prepare_sysctls
  prepare_user
  prepare_cgroups
  export KISTE_TEST_USER=$TEST_USER
else
  check_user_prerequisites
  unset KISTE_TEST_USER
fi

find_cargo
status=0
RUST_TEST_THREADS=${RUST_TEST_THREADS:-2} cargo test --release --locked --no-fail-fast "$@" || status=$?
# Run by root in a checkout owned by someone else: give the build output back.
owner=$(stat -c %u .)
if [ "$(id -u)" = 0 ] && [ "$owner" != 0 ] && [ -d target ]; then
  chown -R "$owner:$(stat -c %g .)" target
fi
exit "$status"
