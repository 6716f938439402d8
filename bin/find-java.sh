# Sourced by bin/jgpt and .ci/run: sets JAVA_HOME to a JDK 21+ (the Vector API needs it).
java_major() { "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }
jgpt_find_java() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-*-jdk* /usr/lib/jvm/*; do
    if [ -n "$c" ] && [ -x "$c/bin/javac" ] && [ "$(java_major "$c")" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$c"; return 0
    fi
  done
  echo "jgpt: no JDK 21+ found; install one (e.g. Temurin 25) and set JAVA_HOME" >&2
  return 1
}
jgpt_find_java
