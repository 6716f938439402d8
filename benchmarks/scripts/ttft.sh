#!/usr/bin/env bash
# Time to first token of `bin/jgpt generate` on a GPT-2 124M-shaped model directory (random weights, GPT-2's
# tokenizer; written once by RandomModelDir.java): wall, user and system seconds and peak RSS of each run, from
# /usr/bin/time -v, then the medians. The process ends after the first generated token (-n 1), so its wall time
# is the time to first token, JVM start included.
#
#   benchmarks/scripts/ttft.sh [--runs N] [--dir DIR] [--trace] [-- extra generate flags]
#   JGPT_AOT=off benchmarks/scripts/ttft.sh      # the same without bin/jgpt's AOT cache, to compare
#
# --trace prints where each run's time went (-Djgpt.startup.trace=true: milliseconds since the JVM started at each
# step, and the CPU time of the thread that took it: the command's start, the kernels' warm-up, the weights, the
# tokenizer, the prompt, the first token).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=5
dir=/tmp/jgpt-gpt2-random
trace=false
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --trace) trace=true; shift ;;
    --) shift; break ;;
    *) echo "ttft.sh: unknown option $1 (--runs N, --dir DIR, --trace, -- generate flags)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "ttft.sh: needs GNU time (/usr/bin/time; Debian: apt-get install time)" >&2; exit 1; }
jar="$here/cli/target/jgpt.jar"
[ -f "$jar" ] || { echo "ttft.sh: build first: ./mvnw -B -ntp -DskipTests package" >&2; exit 1; }
if [ ! -f "$dir/model.safetensors" ]; then
  source "$here/bin/find-java.sh"
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$jar" "$here/benchmarks/scripts/RandomModelDir.java" \
      "$dir" "$here/../shared/data/gpt2/tokenizer.json" 2>&1 | grep -v '^WARNING: Using incubator'
fi
cat "$dir/model.safetensors" > /dev/null   # in the page cache: warm runs only
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-4s %8s %8s %8s %9s  %s\n' run wall_s user_s sys_s rss_mb "jgpt's summary"
walls=(); users=(); syss=(); cpus=()
# bin/jgpt's heap flags for generate, and the trace when asked for
opts="${JGPT_JAVA_OPTS:--Xmx8g -Xms2g}"
$trace && opts="$opts -Djgpt.startup.trace=true"
for ((i = 1; i <= runs; i++)); do
  JGPT_JAVA_OPTS="$opts" /usr/bin/time -v -o "$log" "$here/bin/jgpt" generate --model "$dir" -p "The quick brown fox jumps over the lazy dog" \
      -n 1 --seed 1 "$@" > /dev/null 2> "$log.err"
  wall=$(sed -nE 's/.*Elapsed \(wall clock\) time.*: ([0-9:.]+)$/\1/p' "$log" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  user=$(sed -nE 's/.*User time \(seconds\): ([0-9.]+)/\1/p' "$log")
  sys=$(sed -nE 's/.*System time \(seconds\): ([0-9.]+)/\1/p' "$log")
  rss=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$log")
  printf '%-4s %8.2f %8.2f %8.2f %9.0f  %s\n' "$i" "$wall" "$user" "$sys" "$((rss / 1024))" "$(grep 'jgpt generate:' "$log.err" | head -1)"
  $trace && sed -n 's/^jgpt trace: /       /p' "$log.err"
  walls+=("$wall"); users+=("$user"); syss+=("$sys"); cpus+=("$(awk "BEGIN { print $user + $sys }")")
done
rm -f "$log.err"
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
printf 'median: wall %.2f s, user %.2f s, sys %.2f s, CPU %.2f s (%s runs; load average %s)\n' "$(median "${walls[@]}")" \
    "$(median "${users[@]}")" "$(median "${syss[@]}")" \
    "$(median "${cpus[@]}")" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
