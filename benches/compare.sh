#!/usr/bin/env bash
# Measures metricsmith against glean_parser 22 side by side on the same synthetic schemas.
# See benches/README.md. Prints Markdown tables on stdout; progress goes to stderr.
#
# Environment (all optional):
#   RUNS=5               runs per measurement (interleaved: tool A, tool B, A, B, ...)
#   SIZES="500 2000 8000" event counts N for generate/translate and check/glinter
#   PROPERTIES=5         K, typed properties (extra keys) per event
#   BUILD_N=2000         N for the build comparison (empty: skip it)
#   BUILD_RUNS=3         runs per build measurement
#   MAP_LINES=1000000    lines for `metricsmith map` end to end (empty: skip it)
#   MAP_RUNS=3           runs of `metricsmith map`
#   WORK=DIR             scratch directory (default: a new temporary one, removed at the end
#                        unless KEEP=1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
SIZES=${SIZES:-"500 2000 8000"}
PROPERTIES=${PROPERTIES:-5}
BUILD_N=${BUILD_N-2000}
BUILD_RUNS=${BUILD_RUNS:-3}
MAP_LINES=${MAP_LINES-1000000}
MAP_RUNS=${MAP_RUNS:-3}
if [[ -z "${WORK:-}" ]]; then
  WORK=$(mktemp -d -t metricsmith-compare.XXXXXX)
  if [[ "${KEEP:-0}" != 1 ]]; then
    trap 'rm -rf "$WORK"' EXIT
  fi
fi
mkdir -p "$WORK"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

log() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

log "creating a venv with glean-parser 22 in $WORK/venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check 'glean-parser==22.*'
GLEAN="$WORK/venv/bin/glean_parser"
GLEAN_VERSION=$("$GLEAN" --version | awk '{print $NF}')

log "building metricsmith and metricsmith-bench (release)"
(cd "$ROOT" && cargo build --release --locked -q -p metricsmith-cli -p metricsmith-bench)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
# Copies, so that a concurrent build in the shared target dir cannot swap them mid-run.
mkdir -p "$WORK/bin"
cp "$TARGET_DIR/release/metricsmith" "$TARGET_DIR/release/metricsmith-bench" "$WORK/bin/"
MS="$WORK/bin/metricsmith"
SYNTH="$WORK/bin/metricsmith-bench"
log "metricsmith built from $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- codegen runtime || echo ' + uncommitted changes in codegen/ or runtime/')"

# --- measuring ---------------------------------------------------------------------------
# measure KEY N CMD...: runs CMD once with stdout and stderr discarded, records the wall time
# (nanosecond clock around the process) and the peak RSS (GNU time %M, in KiB; for cargo
# this is the largest process of the tree, i.e. rustc). Fails the script when CMD fails.
measure() {
  local key=$1 n=$2
  shift 2
  local start end rss
  start=$(date +%s%N)
  if ! /usr/bin/time -f '%M' -o "$WORK/time.out" "$@" >"$WORK/cmd.out" 2>&1; then
    log "FAILED: $*"
    cat "$WORK/cmd.out" >&2
    exit 1
  fi
  end=$(date +%s%N)
  rss=$(tail -n 1 "$WORK/time.out")
  printf '%s\t%s\t%s\t%s\n' "$key" "$n" "$(((end - start) / 1000))" "$rss" >>"$RESULTS"
}

schema_dir() { echo "$WORK/synth/n$1"; }

log "machine: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

for n in $SIZES; do
  "$SYNTH" synth --events "$n" --properties "$PROPERTIES" --out "$(schema_dir "$n")" 2>/dev/null
done

# --- generate vs translate, check vs glinter --------------------------------------------
for run in $(seq 1 "$RUNS"); do
  for n in $SIZES; do
    dir=$(schema_dir "$n")
    log "run $run/$RUNS, N=$n"
    # Alternate which tool goes first, so a drift in machine load hits both alike.
    if ((run % 2)); then order="glean ms"; else order="ms glean"; fi
    for tool in $order; do
      rm -rf "$dir/out-$tool"
      if [[ $tool == glean ]]; then
        measure translate "$n" "$GLEAN" translate -f rust -o "$dir/out-glean" "$dir/glean/metrics.yaml"
        measure glinter "$n" "$GLEAN" glinter "$dir/glean/metrics.yaml"
      else
        measure generate "$n" "$MS" generate --schema "$dir/metricsmith/bench.yaml" --out "$dir/out-ms"
        measure check "$n" "$MS" check "$dir/metricsmith/bench.yaml"
      fi
    done
  done
done

# --- cargo build of the generated code ---------------------------------------------------
# Two throwaway crates, each with its own CARGO_TARGET_DIR. Dependencies are built first with
# an empty lib.rs; then each measured build is `touch` + `cargo build --release --offline`,
# which recompiles the wrapper crate alone (release builds are not incremental). The empty
# crate is measured the same way, as the baseline of cargo and rustc start-up.
write_glean_crate() {
  local dir=$1
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<'EOF'
[package]
name = "glean-server-events-bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
# What the rust_server output uses: chrono::Utc, serde derive, serde_json, uuid::Uuid::new_v4.
chrono = "0.4"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
uuid = { version = "1", features = ["v4"] }

[workspace]
EOF
}

write_ms_crate() {
  local dir=$1
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "metricsmith-generated-bench"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
metricsmith = { path = "$ROOT/runtime" }

[workspace]
EOF
  # The workspace's lock file pins the runtime's dependencies to the versions it is tested with.
  cp "$ROOT/Cargo.lock" "$dir/Cargo.lock"
}

build_crate() { # build_crate KEY N DIR
  local dir=$3
  find "$dir/src" -name '*.rs' -exec touch {} +
  CARGO_TARGET_DIR="$dir/target" measure "$1" "$2" cargo build --release --offline --manifest-path "$dir/Cargo.toml"
}

if [[ -n "$BUILD_N" ]]; then
  dir=$(schema_dir "$BUILD_N")
  [[ -d $dir ]] || "$SYNTH" synth --events "$BUILD_N" --properties "$PROPERTIES" --out "$dir" 2>/dev/null
  gcrate="$WORK/build/glean"
  mcrate="$WORK/build/metricsmith"
  rm -rf "$WORK/build"
  write_glean_crate "$gcrate"
  write_ms_crate "$mcrate"
  log "pre-building the dependencies of both crates"
  for c in "$gcrate" "$mcrate"; do
    echo '//! Empty: the baseline.' >"$c/src/lib.rs"
    CARGO_TARGET_DIR="$c/target" cargo build --release -q --manifest-path "$c/Cargo.toml"
  done
  for run in $(seq 1 "$BUILD_RUNS"); do
    log "build baseline run $run/$BUILD_RUNS"
    build_crate build-empty-glean 0 "$gcrate"
    build_crate build-empty-ms 0 "$mcrate"
  done

  "$GLEAN" translate -f rust_server -o "$WORK/build/glean-out" "$dir/glean/metrics.yaml" >/dev/null 2>&1
  cp "$WORK/build/glean-out/server_events.rs" "$gcrate/src/server_events.rs"
  cat >"$gcrate/src/lib.rs" <<'EOF'
//! glean_parser's rust_server output, as a service would include it.
#[allow(warnings)] // generated code: unused imports and `mut`s are not ours to fix
pub mod server_events;
EOF
  rm -rf "$WORK/build/ms-out"
  "$MS" generate --schema "$dir/metricsmith/bench.yaml" --out "$WORK/build/ms-out" 2>/dev/null
  rm -f "$mcrate/src/lib.rs"
  cp "$WORK/build/ms-out/src/"*.rs "$mcrate/src/"
  GLEAN_LINES=$(cat "$gcrate/src/"*.rs | wc -l)
  MS_LINES=$(cat "$mcrate/src/"*.rs | wc -l)
  for run in $(seq 1 "$BUILD_RUNS"); do
    log "build run $run/$BUILD_RUNS, N=$BUILD_N"
    if ((run % 2)); then
      build_crate build-glean "$BUILD_N" "$gcrate"
      build_crate build-ms "$BUILD_N" "$mcrate"
    else
      build_crate build-ms "$BUILD_N" "$mcrate"
      build_crate build-glean "$BUILD_N" "$gcrate"
    fi
  done
fi

# --- metricsmith map end to end -----------------------------------------------------------
if [[ -n "$MAP_LINES" ]]; then
  dir=$(schema_dir 2000)
  [[ -d $dir ]] || "$SYNTH" synth --events 2000 --properties "$PROPERTIES" --out "$dir" 2>/dev/null
  log "writing $MAP_LINES lines of map input"
  "$SYNTH" lines --events 2000 --properties "$PROPERTIES" --count "$MAP_LINES" --out "$WORK/map-in.jsonl"
  MAP_BYTES=$(stat -c %s "$WORK/map-in.jsonl")
  for run in $(seq 1 "$MAP_RUNS"); do
    log "map run $run/$MAP_RUNS"
    measure map "$MAP_LINES" sh -c "exec \"\$0\" map --schema \"\$1\" --oauth-clients \"\$2\" --app-version 134 --now 1551700200000 <\"\$3\" >/dev/null" \
      "$MS" "$dir/metricsmith/bench.yaml" "$dir/oauth-clients.json" "$WORK/map-in.jsonl"
  done
fi

log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ------------------------------------------------------------------------------
python3 - "$RESULTS" "$SIZES" "$PROPERTIES" "$GLEAN_VERSION" "${BUILD_N:-}" "${GLEAN_LINES:-0}" "${MS_LINES:-0}" "${MAP_LINES:-}" "${MAP_BYTES:-0}" <<'EOF'
import statistics
import sys
from collections import defaultdict

path, sizes, k, version, build_n, glean_lines, ms_lines, map_lines, map_bytes = sys.argv[1:]
runs = defaultdict(list)
for line in open(path):
    key, n, us, rss = line.split("\t")
    runs[(key, int(n))].append((int(us) / 1e6, int(rss) / 1024))

def med(key, n):
    rows = runs[(key, n)]
    return statistics.median(r[0] for r in rows), max(r[1] for r in rows), len(rows)

def cell(key, n):
    s, mb, _ = med(key, n)
    return f"{s:.3f} s / {mb:.0f} MB"

print(f"### Schema compilation (K = {k}; median wall time / peak RSS; glean_parser {version})\n")
print("| N | glean_parser translate -f rust | metricsmith generate | speed-up | glinter | metricsmith check | speed-up |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for n in map(int, sizes.split()):
    t, g, c, m = (med(key, n)[0] for key in ("translate", "generate", "glinter", "check"))
    print(f"| {n:,} | {cell('translate', n)} | {cell('generate', n)} | {t / g:.1f}x "
          f"| {cell('glinter', n)} | {cell('check', n)} | {c / m:.1f}x |")
counts = {med(key, n)[2] for key in ("translate", "generate") for n in map(int, sizes.split())}
print(f"\nRuns per cell: {', '.join(map(str, sorted(counts)))}.")

if build_n:
    n = int(build_n)
    print(f"\n### cargo build --release of the generated code (N = {n:,}, K = {k}; median / peak RSS of rustc)\n")
    print("| crate | lines | build | empty crate (baseline) | build - baseline | per event |")
    print("|---|---:|---:|---:|---:|---:|")
    per = {}
    for label, key, base, lines in (("glean_parser rust_server", "build-glean", "build-empty-glean", glean_lines),
                                    ("metricsmith generate", "build-ms", "build-empty-ms", ms_lines)):
        s, mb, _ = med(key, n)
        b, _, _ = med(base, 0)
        per[key] = (s - b) / n
        print(f"| {label} | {int(lines):,} | {s:.2f} s / {mb:.0f} MB | {b:.2f} s | {s - b:.2f} s | {per[key] * 1000:.2f} ms |")
    print(f"\nmetricsmith's generated code is {per['build-glean'] / per['build-ms']:.1f}x cheaper to build per event (baseline subtracted).")

if map_lines:
    n = int(map_lines)
    s, mb, count = med("map", n)
    print(f"\n### metricsmith map end to end ({n:,} lines, {int(map_bytes) / 1e6:.0f} MB; median of {count})\n")
    print("| lines | wall time | lines/s | peak RSS |")
    print("|---:|---:|---:|---:|")
    print(f"| {n:,} | {s:.2f} s | {n / s:,.0f} | {mb:.0f} MB |")
EOF
