#!/usr/bin/env bash
# Pull benchmark: kiste vs podman, side by side, same user, same local registry, same image.
# Usage (as root on the test host, after `scripts/test.sh` has prepared it once):
#   benches/pull.sh [RUNS]        (default 5 runs each, alternating)
# Prints median times, the ratio podman/kiste, and the time to decompress + hash the same
# bytes (the floor for any pull). Not a test: nothing asserts on these numbers.
RUNS=${1:-5}
source "$(dirname "$0")/lib.sh"

# Each run pulls into a fresh store (kiste: its own XDG_DATA_HOME; podman: its own --root),
# like a first pull, and stores are deleted only at the end: deleting just before creating
# makes ext4's inode allocator slow for whoever pulls next, which would measure the filesystem.
# pull_series NAME LAYERS FILES: benches/make_image.py's image, RUNS pulls by each tool, the
# medians, the ratio, and the floor: read, hash, decompress and hash every layer blob once,
# on one core.
pull_series() {
  bench_image "$1" "$2" "$3"
  : > "$WORK/k"; : > "$WORK/p"
  for i in $(seq "$RUNS"); do
    timed as_user env XDG_DATA_HOME="$WORK/stores/k$1$i" "$WORK/kiste" pull -q --tls-verify=false "$IMAGE" >> "$WORK/k"
    timed as_user podman --root "$WORK/stores/p$1$i" --runroot "$RUNTIME/p$1$i" pull -q --tls-verify=false "$IMAGE" >> "$WORK/p"
    echo "$1 run $i: kiste $(tail -1 "$WORK/k")s podman $(tail -1 "$WORK/p")s"
  done
  local blobs t0 floor k p
  blobs=$(find "$WORK/layout-$1/blobs/sha256" -type f -size +1M)
  t0=$(now)
  # shellcheck disable=SC2086
  python3 - $blobs <<'PY'
import hashlib, sys, zlib
for p in sys.argv[1:]:
    h1, h2 = hashlib.sha256(), hashlib.sha256(); d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(p, "rb") as f:
        while chunk := f.read(1 << 20):
            h1.update(chunk); h2.update(d.decompress(chunk))
    h2.update(d.flush())
PY
  floor=$(echo "$(now) - $t0" | bc)
  k=$(median < "$WORK/k"); p=$(median < "$WORK/p")
  printf '%s: median kiste %.3fs  podman %.3fs  ratio podman/kiste %.1fx\n' "$1" "$k" "$p" "$(echo "$p / $k" | bc -l)"
  printf '%s: decompress+hash floor (1 core) %.3fs  kiste/floor %.2fx\n' "$1" "$floor" "$(echo "$k / $floor" | bc -l)"
}

# A ~70 MB (compressed) image: busybox, then 3 gzip layers of 400 files, half random, half
# text; and one of 10 layers (busybox and 9 of 150 files).
pull_series big 3 400
pull_series ten 9 150
as_user "$WORK/kiste" unshare sh -c "rm -rf $WORK/stores/*"
