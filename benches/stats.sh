#!/usr/bin/env bash
# Limits, stats and health, kiste vs podman side by side: `run --rm` with and without
# `--memory 512m --cpus 1` (kiste; the cost of its cgroup), `stats --no-stream` of 20 running
# containers, and the idle monitor's RSS of a container with a health check every 30 s.
# Usage (as root after scripts/test.sh prepared the host and delegated cgroups): benches/stats.sh [RUNS]
RUNS=${1:-10}
source "$(dirname "$0")/lib.sh"

bench_image busybox 0 0
pull_both

# Median wall time of RUNS runs of one command as the user (no harness in the figure).
med() { # kiste|podman, args...
  local tool=$1; shift
  local cmd="$WORK/kiste"; [ "$tool" = podman ] && cmd="podman --root $PROOT --runroot $RUNTIME/p"
  as_user env XDG_DATA_HOME="$KDATA" python3 - "$RUNS" "$cmd $*" <<'PY'
import shlex, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), shlex.split(sys.argv[2])
def once():
    t = time.perf_counter(); r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode: sys.exit(f"{shlex.join(cmd)}: {r.stderr.decode().strip()}")
    return time.perf_counter() - t
once()
print(f"{statistics.median(once() for _ in range(runs)) * 1000:.1f}")
PY
}
plain=$(med kiste run --rm --network none "$IMAGE" true)
limited=$(med kiste run --rm --network none --memory 512m --cpus 1 "$IMAGE" true)
printf '%-34s %7.1f ms  with --memory 512m --cpus 1 %7.1f ms  (+%.1f ms)\n' "kiste run --rm true" "$plain" "$limited" "$(echo "$limited - $plain" | bc)"
for i in $(seq 20); do
  K run -d --network none "$IMAGE" sleep 1000 >/dev/null
  P run -d --network none "$IMAGE" sleep 1000 >/dev/null
done
k=$(med kiste stats --no-stream -a)
p=$(med podman stats --no-stream -a 2>/dev/null || echo "")
if [ -n "$p" ]; then
  printf '%-34s kiste %7.1f ms  podman %7.1f ms  ratio %5.1fx\n' "stats --no-stream (20 running)" "$k" "$p" "$(echo "$p / $k" | bc -l)"
else
  printf '%-34s kiste %7.1f ms  podman: refused (rootless stats need cgroup v2)\n' "stats --no-stream (20 running)" "$k"
fi
K rm -f -a >/dev/null || true; P rm -f -t 0 -a >/dev/null 2>&1 || true
K run -d --name hc --network none --health-cmd true --health-interval 30s "$IMAGE" sleep 1000 >/dev/null
sleep 3
mon=$(pgrep -u "$USER_NAME" -f "__monitor-wait" | head -1)
awk '/^(VmRSS|RssAnon)/ {printf "%s %s kB  ", $1, $2}' /proc/"$mon"/status; echo " idle monitor with a 30 s health check"
K rm -f -a >/dev/null || true
