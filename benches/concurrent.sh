#!/usr/bin/env bash
# Many runs at once, kiste vs podman side by side: N (default 16) `run --rm --network none
# IMAGE true` started together, wall time until all have ended; then N `exec`s into one
# container at once. Every command must succeed. Medians of RUNS rounds, alternating.
# Usage (as root after scripts/test.sh prepared the host): benches/concurrent.sh [RUNS] [N]
RUNS=${1:-5}; N=${2:-16}
source "$(dirname "$0")/lib.sh"

bench_image busybox 0 0
pull_both
K run -d --name bench-exec --network none "$IMAGE" sleep 1000 >/dev/null
P run -d --name bench-exec --network none "$IMAGE" sleep 1000 >/dev/null

series --burst "$N" "$N x run --rm --network none" "run --rm --network none $IMAGE true" "run --rm --network none $IMAGE true"
series --burst "$N" "$N x exec CTR true" "exec bench-exec true" "exec bench-exec true"
K rm -f -a >/dev/null || true; P rm -f -t 0 -a >/dev/null 2>&1 || true
