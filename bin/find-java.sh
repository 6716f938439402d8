# Sourced (POSIX sh) by ./mvnw and bin/jgpt: sets JAVA_HOME to a JDK 22+ (the Vector API, java.lang.foreign).
# JAVA_HOME wins when it is one; otherwise the newest-looking JDK under /usr/lib/jvm is taken.
# The major version: from the JDK's release file (no JVM to start: bin/jgpt runs this before every command),
# else from java -version.
jgpt_java_major() {
  jgpt_v=$(sed -nE 's/^JAVA_VERSION="(1\.)?([0-9]+).*/\2/p' "$1/release" 2>/dev/null)
  if [ -n "$jgpt_v" ]; then echo "$jgpt_v"; else "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "(1\.)?([0-9]+).*/\2/p'; fi
  unset jgpt_v
}
jgpt_find_java() {
  for jgpt_c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk* /usr/lib/jvm/temurin-*-jdk* /usr/lib/jvm/*; do
    if [ -n "$jgpt_c" ] && [ -x "$jgpt_c/bin/javac" ] && [ "$(jgpt_java_major "$jgpt_c")" -ge 22 ] 2>/dev/null; then
      export JAVA_HOME="$jgpt_c"; unset jgpt_c; return 0
    fi
  done
  unset jgpt_c
  echo "jgpt: needs a JDK 22 or newer and found none (JAVA_HOME, /usr/lib/jvm); install one, e.g." \
    "Temurin 25 from https://adoptium.net, and set JAVA_HOME to it" >&2
  return 1
}
jgpt_find_java
