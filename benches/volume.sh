#!/usr/bin/env bash
# Volume and cp benchmarks, kiste vs podman side by side (same user, image, one run):
# `cp` of a 200 MB directory of mixed files into a running container and out of it (and out
# of a stopped one), and what `-v vol:/data` adds to `run --rm IMAGE true`.
# Usage (as root after scripts/test.sh prepared the host): benches/volume.sh [RUNS]
RUNS=${1:-5}
source "$(dirname "$0")/lib.sh"

# A one-layer busybox image in the local registry (benches/make_image.py).
bench_image busybox 0 0
install -d -m 0755 -o "$USER_NAME" "$WORK/host"
pull_both

# 200 MB of mixed files (seeded: the same every run): one of 64 MB, eight of 8 MB, 200 of
# 256 KB, 3000 of 8 KB in nested directories, some symlinks.
as_user python3 - "$WORK/host/data" <<'PY'
import os, random, sys
root = sys.argv[1]; rnd = random.Random(14)
def put(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rnd.randbytes(size))
put(f"{root}/big/one.bin", 64 << 20)
for i in range(8): put(f"{root}/mid/m{i}.bin", 8 << 20)
for i in range(200): put(f"{root}/files/d{i % 10}/f{i}.dat", 256 << 10)
for i in range(3000): put(f"{root}/small/s{i % 30}/t{i % 7}/x{i}.txt", 8 << 10)
for i in range(50): os.symlink(f"../files/d{i % 10}/f{i}.dat", f"{root}/small/link{i}")
PY
echo "data: $(du -sh "$WORK/host/data" | cut -f1) in $(find "$WORK/host/data" -type f | wc -l) files"

# `{n}` gives every copy a fresh destination (no replacing a tree between runs, which would
# time the file system's inode reuse); --sync: neither tool pays for the other's writeback.
K run -d --name bench-cp --network none "$IMAGE" sleep 100000 >/dev/null
P run -d --name bench-cp --network none "$IMAGE" sleep 100000 >/dev/null
OUT=$WORK/host/out
K cp "$WORK/host/data" bench-cp:/tmp/src; P cp "$WORK/host/data" bench-cp:/tmp/src
series --sync "cp 200 MB dir in (running)" "cp $WORK/host/data bench-cp:/tmp/in{n}" "cp $WORK/host/data bench-cp:/tmp/in{n}"
series --sync "cp 200 MB dir out (running)" "cp bench-cp:/tmp/src $OUT-r{n}" "cp bench-cp:/tmp/src $OUT-r{n}"
K stop -t 0 bench-cp >/dev/null; P stop -t 0 bench-cp >/dev/null
series --sync "cp 200 MB dir in (stopped)" "cp $WORK/host/data bench-cp:/tmp/st{n}" "cp $WORK/host/data bench-cp:/tmp/st{n}"
series --sync "cp 200 MB dir out (stopped)" "cp bench-cp:/tmp/src $OUT-s{n}" "cp bench-cp:/tmp/src $OUT-s{n}"
K rm -f -a >/dev/null; P rm -f -t 0 -a >/dev/null 2>&1

# What a named volume adds to a run: with and without, for each tool.
K volume create vol >/dev/null; P volume create vol >/dev/null
# The four commands alternate in one loop, so that drift affects all alike.
as_user env XDG_DATA_HOME="$KDATA" python3 - $((RUNS * 6)) "$WORK/kiste" "podman --root $PROOT --runroot $RUNTIME/p" "$IMAGE" <<'PY'
import shlex, statistics, subprocess, sys, time
runs, k, p, img = int(sys.argv[1]), [sys.argv[2]], shlex.split(sys.argv[3]), sys.argv[4]
cmds = {
    ("kiste", False): k + ["run", "--rm", "--network", "none", img, "true"],
    ("kiste", True): k + ["run", "--rm", "--network", "none", "-v", "vol:/data", img, "true"],
    ("podman", False): p + ["run", "--rm", "--network", "none", img, "true"],
    ("podman", True): p + ["run", "--rm", "--network", "none", "-v", "vol:/data", img, "true"],
}
def once(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed: {r.stderr.decode().strip()}")
    return time.perf_counter() - t
for c in cmds.values():
    once(c)
times = {key: [] for key in cmds}
for _ in range(runs):
    for key, c in cmds.items():
        times[key].append(once(c))
for tool in ["kiste", "podman"]:
    a, b = statistics.median(times[(tool, False)]), statistics.median(times[(tool, True)])
    print(f"{tool:<7} run --rm true {a*1000:7.1f} ms   with -v vol:/data {b*1000:7.1f} ms   the volume costs {(b-a)*1000:+6.2f} ms", flush=True)
PY
K rm -f -a >/dev/null; P rm -f -t 0 -a >/dev/null 2>&1
as_user "$WORK/kiste" unshare sh -c "rm -rf $WORK/stores/* $WORK/host/*"
