# The prologue every bench/*.sh script sources after `set -euo pipefail`, with BENCH_NAME set to its own name:
#
#   BENCH_NAME=step-benchmark
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
#
# It builds the bench module and what it depends on (operators, connectors, job) in one reactor run, `package`
# without tests and never `install`: the classpath then names this checkout's own module jars (*/target/*.jar), not
# the snapshots in ~/.m2, and a run never overwrites those. It writes the classpath to bench/target/bench.classpath
# and cds to the repository root. Environment it reads:
#   SKIP_BUILD=1   reuse the last build and classpath file
#   OFFLINE=0      let Maven download what ~/.m2 lacks (default 1: offline, -o)
#   RESULTS        where the script writes its result tables (default bench/results)
#   ALLOCATOR_SETTINGS  pom (default: export pom.xml's GLIBC_TUNABLES and MALLOC_CONF) or default (the C libraries' own)
# What it defines for the script:
#   ROOT           the repository root (the working directory from here on)
#   RESULTS        absolute, created
#   CP             the run classpath: the bench module's jar, then the classpath file (this checkout's other module
#                  jars and the dependencies in ~/.m2); jars, so that a `mvn compile` meanwhile does not change it
#   FLAGS          the JVM flags Flink needs on Java 17 and DJL's offline switches (pom.xml siamstream.jvm.flags)
#   POM_GLIBC_TUNABLES, POM_MALLOC_CONF  pom.xml's allocator settings (exported as GLIBC_TUNABLES and MALLOC_CONF
#                  unless ALLOCATOR_SETTINGS=default)
#   pom_property NAME  prints pom.xml's <NAME> property
#   JAVA           (an array) java with FLAGS; a script adds -Xmx, -D... and the main class
#   die MESSAGE    prints "$BENCH_NAME: MESSAGE" on stderr and exits 1
#   bench_path P   P as an absolute path; a relative P is taken from the directory the script was started in
#   bench_snapshot DIR  copies this checkout's module jars to DIR/lib and points CP there, so that a rebuild during
#                  a long run does not change the code under it
# shellcheck shell=bash

: "${BENCH_NAME:?set BENCH_NAME before sourcing bench/lib/prologue.sh}"

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# where the user started the script: relative paths they pass (OUT=..., RESULTS=...) are taken from there
BENCH_CALLER_DIR="$PWD"
bench_path() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$BENCH_CALLER_DIR/$1" ;;
  esac
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

RESULTS="$(bench_path "${RESULTS:-$ROOT/bench/results}")"
mkdir -p "$RESULTS"

BENCH_CP_FILE="$ROOT/bench/target/bench.classpath"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  BENCH_MVN_OFFLINE=(-o)
  [[ "${OFFLINE:-1}" == 0 ]] && BENCH_MVN_OFFLINE=()
  echo "$BENCH_NAME: building (mvn -B -ntp -q ${BENCH_MVN_OFFLINE[*]} -pl bench -am package -DskipTests" \
       "dependency:build-classpath)" >&2
  # One reactor run, so that the classpath names this checkout's module jars. Every module of the reactor writes its
  # own target/bench.classpath (a relative outputFile is resolved per module); the bench module's is the one used.
  nice mvn -B -ntp -q "${BENCH_MVN_OFFLINE[@]}" -pl bench -am package -DskipTests \
      dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -DincludeScope=runtime \
    || die "build failed${BENCH_MVN_OFFLINE[*]:+; if a dependency or plugin is missing from ~/.m2, run once with OFFLINE=0}"
fi
BENCH_JAR="$(ls "$ROOT"/bench/target/siamstream-bench-*.jar 2>/dev/null | head -1 || true)"
[[ -f "$BENCH_CP_FILE" && -n "$BENCH_JAR" ]] || die "no build in bench/target (run once without SKIP_BUILD=1)"
CP="$BENCH_JAR:$(cat "$BENCH_CP_FILE")"

# pom_property NAME: the value of pom.xml's <NAME> property (one line); dies when it is missing or empty
pom_property() {
  local value
  value="$(sed -n "s:.*<$1>\\(.*\\)</$1>.*:\\1:p" "$ROOT/pom.xml")"
  [[ -n "$value" ]] || die "no $1 in pom.xml"
  printf '%s\n' "$value"
}

FLAGS="$(pom_property siamstream.jvm.flags)"
# shellcheck disable=SC2206  # the flags are words without spaces inside
JAVA=(java $FLAGS)

# The C allocators' settings (pom.xml siamstream.glibc.tunables and siamstream.jemalloc.conf, which say why), exported
# for every process a script starts, the PyTorch peers included, so that both sides of a comparison run with the same
# allocator. ALLOCATOR_SETTINGS=default leaves the C libraries' own defaults (bench/allocator-benchmark.sh compares);
# a GLIBC_TUNABLES or MALLOC_CONF the caller set wins.
POM_GLIBC_TUNABLES="$(pom_property siamstream.glibc.tunables)"
POM_MALLOC_CONF="$(pom_property siamstream.jemalloc.conf)"
case "${ALLOCATOR_SETTINGS:-pom}" in
  pom)
    export GLIBC_TUNABLES="${GLIBC_TUNABLES:-$POM_GLIBC_TUNABLES}" MALLOC_CONF="${MALLOC_CONF:-$POM_MALLOC_CONF}" ;;
  default) ;;
  *) die "ALLOCATOR_SETTINGS=$ALLOCATOR_SETTINGS is not allowed; allowed: pom, default" ;;
esac

bench_snapshot() {
  local dir="$1/lib" entry snap=()
  mkdir -p "$dir"
  local -a entries
  IFS=: read -r -a entries <<<"$CP"
  for entry in "${entries[@]}"; do
    case "$entry" in
      "$ROOT"/*) cp "$entry" "$dir/" && snap+=("$dir/$(basename "$entry")") ;;  # this checkout's module jars
      *) snap+=("$entry") ;;
    esac
  done
  CP="$(IFS=:; echo "${snap[*]}")"
}

# The PyTorch peers (Debian's python3-torch) take their matrix products from the system's libblas.so.3. Debian's
# default provider is the reference BLAS, which makes the heads' products many times slower and the peer a straw man,
# so the scripts with a PyTorch peer call this first: it fails unless an optimised BLAS provides libblas.so.3
# (apt-get install libopenblas0-pthread), or ALLOW_REFERENCE_BLAS=1.
bench_require_fast_blas() {
  local blas
  blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
  case "$blas" in
    *openblas*|*blis*|*mkl*|*atlas*) echo "$BENCH_NAME: the PyTorch peer's BLAS: $blas" >&2 ;;
    *) [[ "${ALLOW_REFERENCE_BLAS:-0}" == 1 ]] \
         || die "the PyTorch peer would use the reference BLAS (${blas:-no libblas.so.3}); apt-get install" \
                "libopenblas0-pthread, or ALLOW_REFERENCE_BLAS=1 to measure against it anyway" ;;
  esac
}
