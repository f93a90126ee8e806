#!/usr/bin/env bash
# Build and push benchmarks, kiste vs podman side by side (same user, images, registry, one
# run, alternating): a fully cached rebuild of the tutorial's Python app, the same with one
# source file changed (COPY . . and later steps re-run, pip cached), `COPY . .` of 10,000
# small files, 20 `RUN true` steps without cache, and a push of a ~100 MB image.
# Usage (as root after scripts/test.sh prepared the host): [ONLY=substring-of-a-row] benches/build.sh [RUNS]
RUNS=${1:-5}
source "$(dirname "$0")/lib.sh"

# The python stand-in image (the host's python3 and pip) and busybox, in the local registry.
(cd "$REPO" && KISTE_BENCH_REGISTRY=127.0.0.1:$PORT cargo test --release -q --test bench_image -- --ignored \
  make_python_image >/dev/null)
(cd "$REPO" && KISTE_BENCH_REGISTRY=127.0.0.1:$PORT KISTE_BENCH_MB=100 cargo test --release -q --test bench_image -- \
  --ignored make_bench_image >/dev/null)
PY_IMAGE=127.0.0.1:$PORT/bench/python:3.11-slim
BIG=127.0.0.1:$PORT/bench/big:latest
cat > "$HOME_DIR/.config/containers/registries.conf" <<CONF
[[registry]]
location = "127.0.0.1:$PORT"
insecure = true
CONF
chown "$USER_NAME" "$HOME_DIR/.config/containers/registries.conf"


# A package index for pip: the wheel of a tiny package, served on the host.
install -d -o "$USER_NAME" "$WORK/index" "$WORK/app" "$WORK/files" "$WORK/runs"
python3 - "$WORK/index" <<'PY'
import sys, zipfile
with zipfile.ZipFile(f"{sys.argv[1]}/kistehello-1.0-py3-none-any.whl", "w") as z:
    z.writestr("kistehello.py", "def greeting():\n    return 'hello'\n")
    z.writestr("kistehello-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: kistehello\nVersion: 1.0\n")
    z.writestr("kistehello-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("kistehello-1.0.dist-info/RECORD", "")
PY
IPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
(cd "$WORK/index" && exec python3 -m http.server "$IPORT" >/dev/null 2>&1) &
INDEX_PID=$!
BENCH_CLEANUP='kill $INDEX_PID'

cat > "$WORK/app/Dockerfile" <<DF
FROM $PY_IMAGE
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV FLASK_ENV=production
EXPOSE 5000
CMD ["python", "main.py"]
DF
printf -- '--no-index\n--trusted-host host.containers.internal\n--find-links http://host.containers.internal:%s/\nkistehello\n' "$IPORT" \
  > "$WORK/app/requirements.txt"
echo 'import kistehello; print(kistehello.greeting())' > "$WORK/app/main.py"
# 10,000 small files for COPY . .
python3 - "$WORK/files" <<'PY'
import os, sys
for d in range(100):
    os.makedirs(f"{sys.argv[1]}/d{d}", exist_ok=True)
    for f in range(100):
        open(f"{sys.argv[1]}/d{d}/f{f}", "w").write(f"file {d}/{f}\n" * 4)
PY
printf 'FROM %s\nCOPY . /ctx\n' "$PY_IMAGE" > "$WORK/files/Dockerfile"
{ echo "FROM $PY_IMAGE"; for i in $(seq 20); do echo "RUN true # $i"; done; } > "$WORK/runs/Dockerfile"
chown -R "$USER_NAME" "$WORK/app" "$WORK/files" "$WORK/runs"

K pull -q "$PY_IMAGE" >/dev/null; P pull -q --tls-verify=false "$PY_IMAGE" >/dev/null
K pull -q "$BIG" >/dev/null; P pull -q --tls-verify=false "$BIG" >/dev/null

# Times one build per tool per run, alternating; `prep` runs before each (untimed).
bench() { # name, prep command (a shell snippet), kiste args, podman args
  local name=$1 prep=$2 ka=$3 pa=$4 k=() p=() i
  [[ -z ${ONLY:-} || $name == *"$ONLY"* ]] || return 0
  eval "$prep"; eval "K $ka" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  eval "$prep"; eval "P $pa" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  for i in $(seq "$RUNS"); do
    eval "$prep"; k+=("$(eval "timed K $ka")")
    eval "$prep"; p+=("$(eval "timed P $pa")")
  done
  local km pm
  km=$(printf '%s\n' "${k[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  printf '%-34s kiste %8.3f s   podman %8.3f s   ratio %5.1fx\n' "$name" "$km" "$pm" "$(echo "$pm / $km" | bc -l)"
}

N=0
touch_main() { N=$((N + 1)); echo "# change $N" >> "$WORK/app/main.py"; }
bench "cached rebuild (python app)" ":" "build -t app $WORK/app" "build -t app $WORK/app"
bench "one source file changed" "touch_main" "build -t app $WORK/app" "build -t app $WORK/app"
bench "COPY . . of 10,000 files" ":" "build --no-cache -t files $WORK/files" "build --no-cache -t files $WORK/files"
bench "20 RUN true, no cache" ":" "build --no-cache -t runs $WORK/runs" "build --no-cache -t runs $WORK/runs"
# Pushes go to registries emptied before each one, so every blob is really sent: one keeping
# its blobs on disk (its fsync of the 100 MB is a fixed cost for both tools), one in memory.
PUSH_PIDS=()
push_registry() { # storage directory → REG_PORT
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$1" "$port" \
    > "$1.yml"
  docker-registry serve "$1.yml" >"$1.log" 2>&1 &
  PUSH_PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  REG_PORT=$port
}
SHM=$(mktemp -d /dev/shm/kiste-bench.XXXXXX)
BENCH_CLEANUP='kill $INDEX_PID "${PUSH_PIDS[@]}"; rm -rf "$SHM"'
push_registry "$WORK/pushreg"; DISKPORT=$REG_PORT
push_registry "$SHM/pushreg"; MEMPORT=$REG_PORT
empty_registries() { rm -rf "$WORK/pushreg/docker" "$SHM/pushreg/docker"; }
bench "push ~100 MB, registry on disk" "empty_registries" \
  "push --tls-verify=false $BIG 127.0.0.1:$DISKPORT/bench/big:latest" \
  "push --tls-verify=false $BIG 127.0.0.1:$DISKPORT/bench/big:latest"
bench "push ~100 MB, registry in memory" "empty_registries" \
  "push --tls-verify=false $BIG 127.0.0.1:$MEMPORT/bench/big:latest" \
  "push --tls-verify=false $BIG 127.0.0.1:$MEMPORT/bench/big:latest"
