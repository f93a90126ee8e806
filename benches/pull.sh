#!/usr/bin/env bash
# Pull benchmark: kiste vs podman, side by side, same user, same local registry, same image.
# Usage (as root on the test host, after `scripts/test.sh` has prepared it once):
#   benches/pull.sh [RUNS]        (default 5 runs each, alternating)
# Prints median times, the ratio podman/kiste, and the time to decompress + hash the same
# bytes (the floor for any pull). Not a test: nothing asserts on these numbers.
RUNS=${1:-5}
source "$(dirname "$0")/lib.sh"

# A ~65 MB (compressed) image: busybox, then 3 gzip layers of 400 files, half random, half text.
bench_image big 3 400

# Each run pulls into a fresh store (kiste: its own XDG_DATA_HOME; podman: its own --root),
# like a first pull, and stores are deleted only at the end: deleting just before creating
# makes ext4's inode allocator slow for whoever pulls next, which would measure the filesystem.
: > "$WORK/k"; : > "$WORK/p"
for i in $(seq "$RUNS"); do
  timed as_user env XDG_DATA_HOME="$WORK/stores/k$i" "$WORK/kiste" pull -q --tls-verify=false "$IMAGE" >> "$WORK/k"
  timed as_user podman --root "$WORK/stores/p$i" --runroot "$RUNTIME/p$i" pull -q --tls-verify=false "$IMAGE" >> "$WORK/p"
  echo "run $i: kiste $(tail -1 "$WORK/k")s podman $(tail -1 "$WORK/p")s"
done
as_user "$WORK/kiste" unshare sh -c "rm -rf $WORK/stores/*"
# The floor: read, hash, decompress and hash every layer blob once, on one core.
BLOBS=$(find "$WORK/layout-big/blobs/sha256" -type f -size +1M)
t0=$(now)
python3 - $BLOBS <<'PY'
import hashlib, sys, zlib
for p in sys.argv[1:]:
    h1, h2 = hashlib.sha256(), hashlib.sha256(); d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(p, "rb") as f:
        while chunk := f.read(1 << 20):
            h1.update(chunk); h2.update(d.decompress(chunk))
    h2.update(d.flush())
PY
FLOOR=$(echo "$(now) - $t0" | bc)
K=$(median < "$WORK/k"); P=$(median < "$WORK/p")
printf 'median kiste %.3fs  podman %.3fs  ratio podman/kiste %.1fx\n' "$K" "$P" "$(echo "$P / $K" | bc -l)"
printf 'decompress+hash floor (1 core) %.3fs  kiste/floor %.2fx\n' "$FLOOR" "$(echo "$K / $FLOOR" | bc -l)"
