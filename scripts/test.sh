#!/usr/bin/env bash
# The test command (README; called by .ci/run). As root on a fresh Debian 12 machine it
# prepares the host — packages, the unprivileged test user with a subuid range, device
# modes — and runs the whole suite; the tests run kiste as that user. As a normal user it
# checks the prerequisites and runs the suite as that user. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(uidmap passt slirp4netns fuse-overlayfs docker-registry busybox-static skopeo
  apache2-utils ca-certificates procps iproute2 util-linux)
TEST_USER=${KISTE_TEST_USER:-kistetest}

fail() { echo "scripts/test.sh: $*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian starts its own registry on :5000; the tests start theirs on free ports.
  if pgrep -x docker-registry >/dev/null && [ -e /etc/docker/registry/config.yml ]; then
    systemctl stop docker-registry 2>/dev/null || service docker-registry stop 2>/dev/null || true
    systemctl disable docker-registry 2>/dev/null || true
  fi
  # As on a normal distribution.
  [ -e /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
  chmod 0666 /dev/net/tun /dev/fuse
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$TEST_USER"
  fi
  grep -q "^$TEST_USER:" /etc/subuid || echo "$TEST_USER:200000:65536" >> /etc/subuid
  grep -q "^$TEST_USER:" /etc/subgid || echo "$TEST_USER:200000:65536" >> /etc/subgid
  export KISTE_TEST_USER=$TEST_USER
else
  for t in newuidmap:uidmap newgidmap:uidmap docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils; do
    command -v "${t%%:*}" >/dev/null || PATH=$PATH:/usr/sbin command -v "${t%%:*}" >/dev/null ||
      fail "${t%%:*} not found; install the \"${t#*:}\" package"
  done
  [ -e /bin/busybox ] || fail "/bin/busybox not found; install the \"busybox-static\" package"
  me=$(id -un)
  grep -q "^$me:\|^$(id -u):" /etc/subuid || fail "no subuid range for $me; add one to /etc/subuid and /etc/subgid (usermod --add-subuids)"
  unset KISTE_TEST_USER
fi

command -v cargo >/dev/null || fail "cargo not found; install the Rust toolchain (rustup)"
RUST_TEST_THREADS=${RUST_TEST_THREADS:-2} cargo test --release --locked "$@"
