#!/usr/bin/env bash
# The residual family measured (README, "Residual family, measured"): the baby preset trained with each layout
# over seeds, then the loss landscape of every trained model and of its initialisation (jgpt landscape), then
# the table (residual_family_table.py). Seed-major, so every layout of one seed runs in the same stretch of a
# busy machine and the step-time ratios against pre-LN compare like with like.
#
#   study/scripts/residual-family.sh OUT [JAR]
#   env: SEEDS="1 2 3" LAYOUTS="pre-ln highway dense unet post-ln none" THREADS=1 ITERS=2000 (the preset's;
#   fewer on a busy machine: the cosine then ends there) BATCHES=2 EIGEN=20 PLANE=15 (points per side, first seed)
#   INIT_ALL=0 (the landscape at init for the first seed only; 1: for every seed)
#   FIRST=<first of SEEDS> (the seed that gets the plane and the landscape at init: FIRST=1 SEEDS="2 3" adds
#   seeds to an OUT that already holds seed 1's runs without measuring seed 2 differently from seed 3)
set -euo pipefail
out=${1:?usage: residual-family.sh OUT [JAR]}
here=$(cd "$(dirname "$0")/../.." && pwd)
jar=${2:-$here/cli/target/jgpt.jar}
seeds=${SEEDS:-1 2 3}
layouts=${LAYOUTS:-pre-ln highway dense unet post-ln none}
threads=${THREADS:-1}
iters=${ITERS:-2000}
batches=${BATCHES:-2}
eigen=${EIGEN:-20}
plane_points=${PLANE:-15}
init_all=${INIT_ALL:-0}
java_home=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-2* | sort | tail -1)}
export JGPT_DATA_DIR=${JGPT_DATA_DIR:-$here/../shared/data}
jgpt() { "$java_home/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx2g -jar "$jar" "$@" 2>/dev/null; }
mkdir -p "$out"
# Landscapes: BATCHES fixed validation batches of 8 × 64 tokens; a 21-point line, a PLANE² plane for the first
# seed; EIGEN power-iteration steps for the Hessian's largest eigenvalue.
land=(--batches "$batches" --batch-size 8 --points 21 --eigen-iterations "$eigen" --largest-only --threads "$threads")
first=${FIRST:-${seeds%% *}}
for s in $seeds; do
  for l in $layouts; do
    run=$out/$l-s$s
    if [ ! -f "$run/metrics.jsonl" ] || [ ! -f "$run/cpu_s" ]; then
      start=$(date +%s.%N)
      /usr/bin/time -f '%U %S' -o "$run.time" \
        "$java_home/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx2g -jar "$jar" \
        train --preset baby --iters "$iters" --residual-layout "$l" --seed "$s" --threads "$threads" --out "$run" --overwrite \
        --samples 0 > "$out/$l-s$s.log" 2>&1
      awk '{print $1 + $2}' "$run.time" > "$run/cpu_s"
      echo "$(date -u +%T) trained $l seed $s: $(tail -1 "$run/metrics.jsonl" | jq -c '{val_loss, tokens_per_s}')"
    fi
    plane=(--plane-points 0); [ "$s" = "$first" ] && plane=(--plane-points "$plane_points")
    [ -f "$out/land-$l-s$s/landscape.jsonl" ] || jgpt landscape --model "$run" --out "$out/land-$l-s$s" "${land[@]}" "${plane[@]}" > "$out/land-$l-s$s.log"
    [ "$s" = "$first" ] || [ "$init_all" = 1 ] || { echo "$(date -u +%T) landscape $l seed $s: $(jq -c 'select(.kind=="hessian") | .lambda_max' "$out/land-$l-s$s/landscape.jsonl") trained"; continue; }
    [ -f "$out/init-$l-s$s/landscape.jsonl" ] || jgpt landscape --model "$run" --at-init "$s" --out "$out/init-$l-s$s" "${land[@]}" "${plane[@]}" > "$out/init-$l-s$s.log"
    echo "$(date -u +%T) landscapes $l seed $s: $(jq -c 'select(.kind=="hessian") | .lambda_max' "$out/land-$l-s$s/landscape.jsonl") trained, $(jq -c 'select(.kind=="hessian") | .lambda_max' "$out/init-$l-s$s/landscape.jsonl") at init"
  done
done
python3 "$here/study/scripts/residual_family_table.py" "$out"
