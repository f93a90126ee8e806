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

# One Python process as the user starts N commands at once and waits for all.
burst() { # name, kiste args, podman args
  as_user env XDG_DATA_HOME="$KDATA" python3 - "$RUNS" "$N" "$1" "$WORK/kiste $2" "podman --root $PROOT --runroot $RUNTIME/p $3" <<'PY'
import shlex, statistics, subprocess, sys, time
runs, n, name, k, p = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], shlex.split(sys.argv[4]), shlex.split(sys.argv[5])
def once(cmd):
    t = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(n)]
    for pr in procs:
        _, err = pr.communicate()
        if pr.returncode != 0:
            sys.exit(f"{shlex.join(cmd)} failed in a burst of {n}: {err.decode().strip()}")
    return time.perf_counter() - t
once(k); once(p)
ks, ps = [], []
for _ in range(runs):
    ks.append(once(k)); ps.append(once(p))
km, pm = statistics.median(ks), statistics.median(ps)
print(f"{name:<32} kiste {km*1000:7.0f} ms  podman {pm*1000:7.0f} ms  ratio {pm/km:5.1f}x")
PY
}
burst "$N x run --rm --network none" "run --rm --network none $IMAGE true" "run --rm --network none $IMAGE true"
burst "$N x exec CTR true" "exec bench-exec true" "exec bench-exec true"
K rm -f -a >/dev/null || true; P rm -f -t 0 -a >/dev/null 2>&1 || true
