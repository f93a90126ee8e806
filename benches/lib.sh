#!/usr/bin/env bash
# Shared set-up for the benchmarks (sourced): checks, a work dir, kiste built and copied,
# a local registry, the test user's environment with podman at its best (runc, native
# overlay), and helpers to time commands. Not a test: nothing asserts on timings.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
USER_NAME=${KISTE_TEST_USER:-kistetest}
[ "$(id -u)" = 0 ] || { echo "run as root (it drives user $USER_NAME)" >&2; exit 1; }
id "$USER_NAME" >/dev/null 2>&1 || { echo "user $USER_NAME missing: run scripts/test.sh first" >&2; exit 1; }
need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install $2" >&2; exit 1; }; }
# The tool compared against, and ab for connection rates: installed when missing.
for p in podman:podman ab:apache2-utils; do
  command -v "${p%%:*}" >/dev/null && continue
  echo "installing ${p#*:}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${p#*:}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${p#*:}" >/dev/null; } ||
    { echo "cannot install ${p#*:}" >&2; exit 1; }
done
need podman podman; need ab apache2-utils; need runc runc; need bc bc; need curl curl; need docker-registry docker-registry; need skopeo skopeo; need python3 python3

WORK=$(mktemp -d /tmp/kiste-bench.XXXXXX)
chmod 0755 "$WORK"
REG_PID=
# Each step may find nothing to do; none of them decides the script's exit status (under
# `set -e` a pkill that matched nothing used to turn a complete run into exit 1).
# A script adds its own steps (its servers) in BENCH_CLEANUP.
cleanup() {
  local rc=$?
  eval "${BENCH_CLEANUP:-}" 2>/dev/null || true
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
  # A failed run must not leave containers (monitors, pasta) of either tool behind.
  [ -n "${KDATA:-}" ] && as_user env XDG_DATA_HOME="$KDATA" "$WORK/kiste" rm -f -a >/dev/null 2>&1 || true
  pkill -u "$USER_NAME" -x catatonit 2>/dev/null || true
  pkill -u "$USER_NAME" -x conmon 2>/dev/null || true
  pkill -u "$USER_NAME" -f __userns-holder 2>/dev/null || true
  rm -rf "$WORK" "${RUNTIME:-}"
  exit "$rc"
}
trap cleanup EXIT

(cd "$REPO" && cargo build --release -q)
install -m 0755 "${CARGO_TARGET_DIR:-$REPO/target}/release/kiste" "$WORK/kiste"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/registry.yml" <<YML
version: 0.1
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$PORT}
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
up=
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
[ -n "$up" ] || { echo "the registry did not start on 127.0.0.1:$PORT; see $WORK/registry.log:" >&2; cat "$WORK/registry.log" >&2; exit 1; }

# The user's environment: private XDG dirs, podman at its best (runc, native overlay).
HOME_DIR=$(getent passwd "$USER_NAME" | cut -d: -f6)
UIDN=$(id -u "$USER_NAME")
# XDG_RUNTIME_DIR (kiste's run-time files, podman's --runroot) on tmpfs, as systemd's
# /run/user/UID is on every machine these tools are used on.
RUNTIME=$(mktemp -d /dev/shm/kiste-bench-run.XXXXXX); chown "$USER_NAME" "$RUNTIME"; chmod 0700 "$RUNTIME"
install -d -o "$USER_NAME" "$HOME_DIR/.config" "$HOME_DIR/.config/containers"
cat > "$HOME_DIR/.config/containers/containers.conf" <<CONF
[engine]
runtime = "runc"
CONF
cat > "$HOME_DIR/.config/containers/storage.conf" <<CONF
[storage]
driver = "overlay"
CONF
chown -R "$USER_NAME" "$HOME_DIR/.config/containers"
as_user() {
  setpriv --reuid="$UIDN" --regid="$(id -g "$USER_NAME")" --init-groups \
    env -i HOME="$HOME_DIR" USER="$USER_NAME" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    XDG_RUNTIME_DIR="$RUNTIME" "$@"
}
now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }; echo "$(now) - $t0" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Each tool's store for the series (K and P run kiste and podman in them, as the user).
KDATA=$WORK/stores/k; PROOT=$WORK/stores/p
install -d -m 0755 -o "$USER_NAME" "$WORK/stores"
K() { as_user env XDG_DATA_HOME="$KDATA" "$WORK/kiste" "$@"; }
P() { as_user podman --root "$PROOT" --runroot "$RUNTIME/p" "$@"; }
# bench_image NAME LAYERS FILES: benches/make_image.py's image (busybox, then LAYERS layers of
# FILES files) pushed to the local registry as bench/NAME:latest; sets IMAGE.
bench_image() {
  python3 "$REPO/benches/make_image.py" "$WORK/layout-$1" "$2" "$3" >&2
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout-$1:latest" "docker://127.0.0.1:$PORT/bench/$1:latest"
  IMAGE=127.0.0.1:$PORT/bench/$1:latest
}
# series [--sync] [--burst N] NAME KISTE_ARGS PODMAN_ARGS: benches/series.py times the two
# commands (shell words after `kiste` and after podman with its store), alternating, RUNS times.
install -m 0644 "$REPO/benches/series.py" "$WORK/series.py"
series() {
  local opts=()
  while [[ $1 == --* ]]; do opts+=("$1"); [[ $1 == --burst ]] && { opts+=("$2"); shift; }; shift; done
  as_user env XDG_DATA_HOME="$KDATA" python3 "$WORK/series.py" "${opts[@]}" "$RUNS" "$1" \
    "$WORK/kiste $2" "podman --root $PROOT --runroot $RUNTIME/p $3"
}
# Both tools pull IMAGE into their stores.
pull_both() {
  K pull -q --tls-verify=false "$IMAGE" >/dev/null
  P pull -q --tls-verify=false "$IMAGE" >/dev/null
}
