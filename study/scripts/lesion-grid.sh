#!/usr/bin/env bash
# Lesions and LayerDrop over more seeds (issue 16; docs/study/lesions): the quick preset's lesion part (lr 5e-4 with
# warmup, Xavier init, 1000 steps, LayerDrop 0 and 0.2, 6 subsets per k) for SEEDS at DEPTHS, then merged with an
# earlier measurement's results (EARLIER: directories holding results.jsonl, later ones win) by merge_results.py,
# and the report, lesion.jsonl and plots rewritten from the merged results (jgpt stability --replot), with the
# absolute-loss table (lesion_losses.py) in OUT/merged/losses.md.
#
#   study/scripts/lesion-grid.sh OUT [EARLIER...]
#   env: SEEDS=1,2 DEPTHS=8 LAYOUTS=post-ln,pre-ln,sandwich,deepnorm,rezero,none THREADS=2 (runs at a time, one
#   thread each) JAR=cli/target/jgpt.jar GRID="the merged grid's description, for the report's header"
set -euo pipefail
out=${1:?usage: lesion-grid.sh OUT [EARLIER...]}
shift
here=$(cd "$(dirname "$0")/../.." && pwd)
jar=${JAR:-$here/cli/target/jgpt.jar}
seeds=${SEEDS:-1,2}
depths=${DEPTHS:-8}
layouts=${LAYOUTS:-post-ln,pre-ln,sandwich,deepnorm,rezero,none}
java_home=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-2* | sort | tail -1)}
export JGPT_DATA_DIR=${JGPT_DATA_DIR:-$here/../shared/data}
jgpt() { "$java_home/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx2g -jar "$jar" "$@"; }
runs=$out/runs-L${depths//,/-}-s${seeds//,/-}
mkdir -p "$out"
if [ ! -f "$runs/report.md" ]; then
  /usr/bin/time -f '%e s wall, %U s user, %S s system' -o "$runs.time" \
    "$java_home/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx2g -jar "$jar" \
    stability --preset quick --layouts "$layouts" --depths "$depths" --lrs 5e-4 --warmup on --inits xavier \
    --seeds "$seeds" --steps 1000 --layer-drops 0,0.2 --lesions 6 --probe-depths "$depths" \
    --threads "${THREADS:-2}" --out "$runs" > "$runs.log" 2>&1
  echo "$(date -u +%T) $runs: $(cat "$runs.time")"
fi
python3 "$here/study/scripts/merge_results.py" "$out/merged" \
  "${GRID:-lesions: layouts [$layouts] × depths [$depths] × seeds [$seeds], merged with $*}" "$@" "$runs"
jgpt stability --replot --out "$out/merged" > "$out/replot.log" 2>&1
python3 "$here/study/scripts/lesion_losses.py" "$out/merged/lesion.jsonl" > "$out/merged/losses.md"
echo "$(date -u +%T) merged report: $out/merged/report.md"
