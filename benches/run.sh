#!/usr/bin/env bash
# Container benchmarks, kiste vs podman side by side (same user, image, one run):
# `run --rm --network none IMAGE true`, `exec CTR true`, `ps` with 20 running containers,
# the idle RSS of one container's monitor (kiste's monitor vs conmon), and networking: `run --rm`
# with each tool's default network, TCP throughput and HTTP request rate through a published
# port, and the idle RSS/PSS of a networked container's processes.
# Usage (as root after scripts/test.sh prepared the host): [ONLY=start|net] benches/run.sh [RUNS]
RUNS=${1:-10}
case ${ONLY:-} in ""|start|net) ;; *) echo "ONLY=$ONLY: use start or net" >&2; exit 2 ;; esac
source "$(dirname "$0")/lib.sh"
# ONLY=start: the rows up to the idle monitor; ONLY=net: the networking rows.
want() { [[ -z ${ONLY:-} || $1 == "$ONLY" ]]; }

# A one-layer busybox image in the local registry (benches/make_image.py).
bench_image busybox 0 0
pull_both


if want start; then
series "run --rm --network none true" "run --rm --network none $IMAGE true" "run --rm --network none $IMAGE true"
K run -d --name bench-exec --network none "$IMAGE" sleep 1000 >/dev/null
P run -d --name bench-exec --network none "$IMAGE" sleep 1000 >/dev/null
series "exec CTR true" "exec bench-exec true" "exec bench-exec true"
for i in $(seq 19); do
  K run -d --network none "$IMAGE" sleep 1000 >/dev/null
  P run -d --network none "$IMAGE" sleep 1000 >/dev/null
done
series "ps (20 running)" "ps" "ps"
sleep 2  # a quiet second: kiste's waiter has given back its start-up pages
kmon=$(pgrep -u "$USER_NAME" -f "__monitor-wait" | head -1); pmon=$(pgrep -u "$USER_NAME" -x conmon | head -1)
rss() { awk '/^(VmRSS|RssAnon)/ {printf "%s %s kB  ", $1, $2}' /proc/"$1"/status; }
printf 'idle monitor   kiste: %s\n               conmon: %s\n' "$(rss "$kmon")" "$(rss "$pmon")"
K rm -f -a >/dev/null; P rm -f -t 0 -a >/dev/null 2>&1
fi
want net || exit 0

# Networking (issues #4, #17): `run --rm` with each tool's default network (kiste: its built-in
# stack; Debian 12's podman: slirp4netns), kiste on pasta and on slirp4netns for reference; TCP
# throughput and the rate of short HTTP requests (ab) through a port published on 127.0.0.1;
# what a networked container's processes cost at idle (RSS and PSS).
series "run --rm (default net) true" "run --rm $IMAGE true" "run --rm $IMAGE true"
series "run --rm (kiste pasta) true" "run --rm --network pasta $IMAGE true" "run --rm $IMAGE true"
series "run --rm (slirp4netns) true" "run --rm --network slirp4netns $IMAGE true" "run --rm --network slirp4netns $IMAGE true"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
KP=$(free_port); KA=$(free_port); KS=$(free_port); PP=$(free_port); KH=$(free_port); PH=$(free_port)
# The sink reads with 1 MB buffers (dd): busybox nc's own loop reads 1 KB per poll, read and
# write, and bounds any path at ~350 MB/s on this machine's two cores, whatever carries it.
SINK='while true; do nc -l -p 5001 -e dd of=/dev/null bs=1M 2>/dev/null; done'
HTTPD='mkdir -p /w && echo hello > /w/index.html && exec httpd -f -p 80 -h /w'
K run -d --name bench-net -p "127.0.0.1:$KP:5001" "$IMAGE" sh -c "$SINK" >/dev/null
K run -d --name bench-pasta --network pasta -p "127.0.0.1:$KA:5001" "$IMAGE" sh -c "$SINK" >/dev/null
K run -d --name bench-slirp --network slirp4netns -p "127.0.0.1:$KS:5001" "$IMAGE" sh -c "$SINK" >/dev/null
P run -d --name bench-net -p "127.0.0.1:$PP:5001" "$IMAGE" sh -c "$SINK" >/dev/null

# Idle memory of each networked container's processes (one port published): the monitor
# gives back its pages after a quiet second. Podman's: conmon, its slirp4netns (found by the
# network namespace on its command line) and rootlessport (podman's only container with ports).
kid() { K inspect --format '{{.Id}}' "$1"; }
kmon() { pgrep -u "$USER_NAME" -f "__monitor-wait $(kid "$1")"; }
knet() { cut -d' ' -f1 "$RUNTIME/kiste/containers/$(kid "$1")/net.pid"; }
pcid=$(P inspect --format '{{.Id}}' bench-net)
pnetns=$(P inspect --format '{{.NetworkSettings.SandboxKey}}' bench-net)
pmon=$(for p in $(pgrep -u "$USER_NAME" -x conmon); do grep -qs "$pcid" /proc/"$p"/cmdline && echo "$p"; done | head -1)
phelp=$(for p in $(pgrep -u "$USER_NAME" -x slirp4netns); do grep -qs "$pnetns" /proc/"$p"/cmdline && echo "$p"; done | head -1)
kb() { local t=0 p v; for p in "${@:2}"; do v=$(awk -v k="$1:" '$1 == k {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null); t=$((t + ${v:-0})); done; echo $t; }
both() { printf '%6s kB RSS %6s kB PSS' "$(kb Rss "$@")" "$(kb Pss "$@")"; }
memory() {
  local prport
  prport=$(pgrep -u "$USER_NAME" -f rootlessport | tr '\n' ' ')
  printf 'idle networked container, %s (all its processes)\n' "$1"
  # The stack's child: the relay of its loopback port (netstack/splice.rs).
  # shellcheck disable=SC2046
  printf '  kiste monitor+built-in stack+relay:     %s\n' "$(both "$(kmon bench-net)" "$(knet bench-net)" $(pgrep -P "$(knet bench-net)"))"
  printf '  kiste monitor+pasta:                    %s\n' "$(both "$(kmon bench-pasta)" "$(knet bench-pasta)")"
  printf '  kiste monitor+slirp4netns:              %s\n' "$(both "$(kmon bench-slirp)" "$(knet bench-slirp)")"
  # shellcheck disable=SC2086
  printf '  podman conmon+slirp4netns+rootlessport: %s\n' "$(both $pmon $phelp $prport)"
}
sleep 2
memory "fresh"
python3 - "$KP" "$KA" "$KS" "$PP" <<'PY'
import socket, statistics, sys, time
def rate(port, mb=512):
    buf = b"x" * (1 << 20)
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port)); break
        except OSError:
            time.sleep(0.05)
    t = time.perf_counter()
    for _ in range(mb):
        s.sendall(buf)
    s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
    return mb / (time.perf_counter() - t)
ports = [int(a) for a in sys.argv[1:5]]
got = [[], [], [], []]
for _ in range(3):  # alternating, so that each sink has restarted before its next round
    for i, p in enumerate(ports):
        got[i].append(rate(p))
k, ka, ks, p = (statistics.median(g) for g in got)
print(f"{'TCP via -p on 127.0.0.1':<28} kiste {k:7.0f} MB/s podman {p:7.0f} MB/s ratio {k/p:5.2f}x")
print(f"{'  (kiste on pasta)':<28} kiste {ka:7.0f} MB/s podman {p:7.0f} MB/s ratio {ka/p:5.2f}x")
print(f"{'  (kiste on slirp4netns)':<28} kiste {ks:7.0f} MB/s podman {p:7.0f} MB/s ratio {ks/p:5.2f}x")
PY
sleep 2
memory "after 1.5 GB through its port"
# Short HTTP requests: ab, 4 at a time, against busybox httpd in each tool's container.
K run -d --name bench-http -p "127.0.0.1:$KH:80" "$IMAGE" sh -c "$HTTPD" >/dev/null
P run -d --name bench-http -p "127.0.0.1:$PH:80" "$IMAGE" sh -c "$HTTPD" >/dev/null
ab_rate() {
  local i
  for i in $(seq 100); do curl -fs "http://127.0.0.1:$1/" >/dev/null && break; sleep 0.05; done
  as_user ab -q -n 3000 -c 4 "http://127.0.0.1:$1/" | awk '/^Requests per second/ {print $4}'
}
kr=(); pr=()
for _ in 1 2 3; do kr+=("$(ab_rate "$KH")"); pr+=("$(ab_rate "$PH")"); done
km=$(printf '%s\n' "${kr[@]}" | median); pm=$(printf '%s\n' "${pr[@]}" | median)
printf '%-28s kiste %7.0f req/s podman %7.0f req/s ratio %5.2fx\n' "HTTP via -p (ab -c 4)" "$km" "$pm" "$(echo "$km / $pm" | bc -l)"
K rm -f -a >/dev/null; P rm -f -t 0 -a >/dev/null 2>&1
as_user "$WORK/kiste" unshare sh -c "rm -rf $WORK/stores/*"
