"""Times one command of kiste and the same of podman, alternating, as the user this runs as, and
prints the medians and the ratio: one process times a whole series, so neither tool pays for
the harness (bash, setpriv, date). Used by lib.sh's `series`.

usage: series.py [--sync] [--burst N] RUNS NAME KISTE_CMD PODMAN_CMD   (commands as shell words)
--sync runs sync(2) before each timed command; --burst N starts N copies at once and times
until all ended; "{n}" in a command becomes the number of the call (fresh names per run)."""
import argparse, os, shlex, statistics, subprocess, sys, time

a = argparse.ArgumentParser()
a.add_argument("--sync", action="store_true")
a.add_argument("--burst", type=int, default=1)
a.add_argument("runs", type=int)
a.add_argument("name")
a.add_argument("kiste")
a.add_argument("podman")
o = a.parse_args()
calls = 0


def once(words):
    global calls
    calls += 1
    cmd = [w.replace("{n}", str(calls)) for w in shlex.split(words)]
    if o.sync:
        os.sync()
    t = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(o.burst)]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"{shlex.join(cmd)} failed: {err.decode().strip()}")
    return time.perf_counter() - t


once(o.kiste); once(o.podman)  # warm caches for both
ks, ps = [], []
for _ in range(o.runs):
    ks.append(once(o.kiste)); ps.append(once(o.podman))
km, pm = statistics.median(ks), statistics.median(ps)
print(f"{o.name:<34} kiste {km*1000:8.1f} ms  podman {pm*1000:8.1f} ms  ratio {pm/km:5.2f}x", flush=True)
