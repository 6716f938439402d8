#!/usr/bin/env bash
# Makes jgpt's AOT cache, cli/target/jgpt.aot, for cli/target/jgpt.jar (JDK 25+, JEP 514); the build runs it
# after packaging the jar. It holds the classes the training run loaded, parsed; JDK 25 keeps no linked classes and
# no method profiles (JEP 515) in it: with an incubator module (jdk.incubator.vector) in the boot layer it archives no
# module graph ("archivedBootLayer not available" under -Xlog:aot), and without one it links nothing and drops the
# profiles the training run recorded (MethodTrainingData 3298 recorded, 0 written; another module given to
# --add-modules keeps both). Nor picocli's classes: Java 5 class files ("Old class has been linked"), read from the jar
# at each start. The training run is `jgpt aot-training` (generate and train on tiny models, seconds)
# started by bin/jgpt under -XX:AOTCacheOutput, so that its JVM options are those of later runs. The cache is
# written under a temporary name and renamed: a failed or interrupted run leaves none, and bin/jgpt then starts
# without one, as it does with an older JDK. Never fails the build: a cache only makes starting faster.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$here/cli/target/jgpt.jar"
cache="$here/cli/target/jgpt.aot"
source "$here/bin/find-java.sh" || exit 0
version=$(jgpt_java_major "$JAVA_HOME")
rm -f "$cache"
if [ "${version:-0}" -lt 25 ] 2>/dev/null; then
  echo "aot-cache: JDK ${version:-?} cannot make an AOT cache (JDK 25+ can): jgpt starts without one"
  exit 0
fi
if [ ! -f "$jar" ]; then
  echo "aot-cache: no $jar to make an AOT cache for (./mvnw -B -ntp -DskipTests package)" >&2
  exit 0
fi
tmp="$here/cli/target/jgpt-$$.aot"
log="$tmp.log"
trap 'rm -f "$tmp" "$tmp.config" "$log"' EXIT
start=$(date +%s)
if JGPT_AOT_OUTPUT="$tmp" "$here/bin/jgpt" aot-training > "$log" 2>&1 && [ -s "$tmp" ]; then
  mv -f "$tmp" "$cache"
  echo "aot-cache: wrote $cache ($(( $(stat -c %s "$cache") / 1048576 )) MB, $(( $(date +%s) - start )) s)"
else
  sed 's/^/aot-cache: /' "$log" >&2
  echo "aot-cache: warning: the training run failed, so there is no AOT cache: jgpt starts without one" >&2
fi
exit 0
