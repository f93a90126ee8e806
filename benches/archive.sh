#!/usr/bin/env bash
# Images in and out of files, kiste vs podman side by side (same user, same image, one run):
# `save` of a ~200 MB image to docker-archive, `load` of that archive into an empty store,
# `commit` of a container holding 100 MB of changes. Medians of RUNS, alternating.
# Usage (as root after scripts/test.sh prepared the host): benches/archive.sh [RUNS]
RUNS=${1:-5}
source "$(dirname "$0")/lib.sh"

bench_image big 6 500
install -d -m 0755 -o "$USER_NAME" "$WORK/out"
pull_both

report() { # name
  local k p; k=$(median < "$WORK/k"); p=$(median < "$WORK/p")
  printf '%-30s kiste %7.3fs  podman %7.3fs  ratio %5.1fx\n' "$1" "$k" "$p" "$(echo "$p / $k" | bc -l)"
}

: > "$WORK/k"; : > "$WORK/p"
for i in $(seq "$RUNS"); do
  timed K save -o "$WORK/out/k$i.tar" "$IMAGE" >> "$WORK/k"
  timed P save -q -o "$WORK/out/p$i.tar" "$IMAGE" >> "$WORK/p"
done
ls -l "$WORK/out/k1.tar" "$WORK/out/p1.tar" | awk '{print "  archive", $5, $9}'
report "save (docker-archive)"

# Each load goes into an empty store, as a first load on another machine would.
: > "$WORK/k"; : > "$WORK/p"
for i in $(seq "$RUNS"); do
  timed as_user env XDG_DATA_HOME="$WORK/stores/kl$i" "$WORK/kiste" load -i "$WORK/out/k$i.tar" >> "$WORK/k"
  timed as_user podman --root "$WORK/stores/pl$i" --runroot "$RUNTIME/pl$i" load -q -i "$WORK/out/p$i.tar" >> "$WORK/p"
done
report "load (docker-archive)"

K run --name bench-commit --network none "$IMAGE" dd if=/dev/urandom of=/changes bs=1M count=100 2>/dev/null
P run --name bench-commit --network none "$IMAGE" dd if=/dev/urandom of=/changes bs=1M count=100 2>/dev/null
: > "$WORK/k"; : > "$WORK/p"
for i in $(seq "$RUNS"); do
  timed K commit bench-commit "localhost/bench-commit:$i" >> "$WORK/k"
  timed P commit -q bench-commit "localhost/bench-commit:$i" >> "$WORK/p"
done
report "commit (100 MB of changes)"
K rm -f -a >/dev/null || true; P rm -f -t 0 -a >/dev/null 2>&1 || true
as_user "$WORK/kiste" unshare sh -c "rm -rf $WORK/stores/*" || true
