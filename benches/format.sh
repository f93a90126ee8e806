#!/usr/bin/env bash
# --format templates, kiste vs podman side by side: `ps` with 20 running containers and
# `images` with 10 names, each as the plain table and through a Go template (issue #18: a
# template costs at most 1 ms over the table).
# Usage (as root after scripts/test.sh prepared the host): benches/format.sh [RUNS]
RUNS=${1:-10}
source "$(dirname "$0")/lib.sh"

bench_image busybox 0 0
pull_both
for i in $(seq 20); do
  K run -d --network none "$IMAGE" sleep 1000 >/dev/null
  P run -d --network none "$IMAGE" sleep 1000 >/dev/null
done
for i in $(seq 9); do K tag "$IMAGE" "bench/tag$i" >/dev/null; P tag "$IMAGE" "bench/tag$i" >/dev/null; done
PS_T="'table {{.ID}}\t{{.Names}}\t{{.Status}}\t{{.Labels}}\t{{upper .State}}'"
IM_T="'{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'"
series "ps (20 running)" "ps" "ps"
series "ps --format TEMPLATE" "ps --format $PS_T" "ps --format $PS_T"
series "images (10 names)" "images" "images"
series "images --format TEMPLATE" "images --format $IM_T" "images --format $IM_T"
K rm -f -a >/dev/null; P rm -f -t 0 -a >/dev/null 2>&1
