#!/usr/bin/env bash
# Compose benchmarks, kiste compose vs podman-compose (Debian's, driving podman with runc and
# native overlay) side by side in one run, same user, image and compose file: a project of 10
# busybox services on one network. Times `up -d` from nothing, `up -d` again with nothing
# changed, `ps`, and `down` (each series alternating the tools), and prints the medians.
# Usage (as root after scripts/test.sh prepared the host): benches/compose.sh [RUNS]
RUNS=${1:-5}
source "$(dirname "$0")/lib.sh"
command -v podman-compose >/dev/null || {
  echo "installing podman-compose" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman-compose >/dev/null ||
    { echo "apt-get install podman-compose failed" >&2; exit 1; }
}

# A one-layer busybox image in the local registry (benches/make_image.py).
bench_image busybox 0 0
# The project: 10 services that stop at once on SIGTERM, on the project's default network.
PROJ=$WORK/bench10; install -d -m 0755 -o "$USER_NAME" "$PROJ"
{
  echo "services:"
  for i in $(seq 1 10); do
    printf '  svc%s:\n    image: %s\n    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; sleep 3600 & wait"]\n' "$i" "$IMAGE"
  done
} >"$PROJ/compose.yaml"
chown "$USER_NAME" "$PROJ/compose.yaml"
# podman-compose reads the registry as insecure through registries.conf.
cat >"$HOME_DIR/.config/containers/registries.conf" <<CONF
[[registry]]
location = "127.0.0.1:$PORT"
insecure = true
CONF
chown "$USER_NAME" "$HOME_DIR/.config/containers/registries.conf"
pull_both

# One Python process as the user times every command (kiste and podman-compose alternating);
# a failing command stops the run with its stderr.
as_user env XDG_DATA_HOME="$KDATA" python3 - "$WORK" "$PROOT" "$RUNTIME" "$PROJ" "$RUNS" <<'PY'
import os, shlex, statistics, subprocess, sys, time
W, PR, RT, PROJ, RUNS = sys.argv[1:6]
RUNS = int(RUNS)
kiste = [f"{W}/kiste", "compose"]
pc = ["podman-compose", "--podman-args", f"--root {PR} --runroot {RT}/p"]
def once(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=PROJ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed: {r.stderr.decode().strip()[-2000:]}")
    return time.perf_counter() - t
def count(cmd):
    r = subprocess.run(cmd, cwd=PROJ, capture_output=True, text=True)
    return len([l for l in r.stdout.splitlines() if l.strip()])
times = {k: ([], []) for k in ["up -d (10 services)", "up -d again (no change)", "ps", "down"]}
for i in range(RUNS + 1):
    for j, tool in enumerate([kiste, pc]):
        t_up = once(tool + ["up", "-d"])
        t_again = once(tool + ["up", "-d"])
        t_ps = once(tool + ["ps"])
        running = count([f"{W}/kiste", "ps", "-q"]) if j == 0 else count(["podman", "--root", PR, "--runroot", f"{RT}/p", "ps", "-q"])
        if running != 10:
            sys.exit(f"{tool[0]}: {running} containers running after up -d, not 10")
        t_down = once(tool + ["down"])
        if i == 0:
            continue  # warm-up round for both
        for k, t in zip(times, [t_up, t_again, t_ps, t_down]):
            times[k][j].append(t)
for k, (ks, ps) in times.items():
    km, pm = statistics.median(ks), statistics.median(ps)
    print(f"compose {k:<26} kiste {km*1000:8.1f} ms  podman-compose {pm*1000:8.1f} ms  ratio {pm/km:6.1f}x")
PY
