#!/usr/bin/env bash
# Compile cost of metricsmith's generated code: writes a synthetic schema of N events
# (default 2,000), generates a crate from it with the metricsmith CLI, and times
# `cargo build --release` of that crate alone (its dependencies are built first, untimed).
#
#   benches/compile-cost.sh [EVENTS] [WORK_DIR]
#
# Each event has a shared 32-hex `uid`, every second one an optional string with a pattern,
# every fourth an enum; every event has an exact Amplitude mapping, and there are 20 rules.
set -euo pipefail

events=${1:-2000}
work=${2:-${TMPDIR:-/tmp}/metricsmith-compile-cost}
root=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$work/schema" "$work/crate/src" "$work/crate/docs"
mkdir -p "$work/schema" "$work/crate"

schema="$work/schema/bench.yaml"
{
  echo "metricsmith: 1"
  echo "service: bench"
  echo "description: A synthetic service of $events events."
  echo "defaults:"
  echo "  owners: [owner@example.com]"
  echo "  bugs: ['https://example.com/bug/1']"
  echo "  data_reviews: ['https://example.com/review/1']"
  echo "  expires: never"
  echo "properties:"
  echo "  uid: {type: hex, length: 32, sensitivity: identifier, description: The account.}"
  echo "events:"
  for ((i = 0; i < events; i++)); do
    echo "  area$((i % 50)).event$i:"
    echo "    description: Synthetic event number $i."
    echo "    kinds: [activity, flow]"
    echo "    properties:"
    echo "      uid: {required: true}"
    if ((i % 2 == 0)); then
      echo "      label$i: {type: string, pattern: '^[a-z0-9_]+\$', max_length: 64, required: false, description: A label.}"
    fi
    if ((i % 4 == 0)); then
      echo "      choice$i: {type: enum, values: [first, second, third], required: true, description: A choice.}"
    fi
  done
  echo "amplitude:"
  echo "  groups:"
  for ((g = 0; g < 10; g++)); do
    echo "    g$g: {prefix: bench_g$g, description: Group $g.}"
  done
  echo "  exact:"
  for ((i = 0; i < events; i++)); do
    echo "    area$((i % 50)).event$i: {group: g$((i % 10)), event: event_$i}"
  done
  echo "  rules:"
  for ((r = 0; r < 20; r++)); do
    echo "    - pattern: '^other$r\\.([a-z]+)\$'"
    echo "      group: g$((r % 10))"
    echo "      event: 'other_{category}'"
  done
} >"$schema"

cat >"$work/crate/Cargo.toml" <<TOML
[package]
name = "metricsmith-bench-events"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
metricsmith = { path = "$root/runtime" }

[workspace]
TOML

echo "generating $events events into $work/crate"
(cd "$root" && cargo run -q --release -p metricsmith-cli -- generate --schema "$schema" --out "$work/crate" 2>&1 | tail -n 1)
lines=$(wc -l <"$work/crate/src/bench.rs")
echo "generated src/bench.rs: $lines lines"

export CARGO_TARGET_DIR="$work/target"
cd "$work/crate"
# Dependencies first, untimed: build, then invalidate only this crate.
cargo build -q --release
touch src/lib.rs src/bench.rs
start=$(date +%s.%N)
cargo build -q --release
end=$(date +%s.%N)
seconds=$(echo "$end - $start" | bc)
per_event=$(echo "scale=2; $seconds * 1000 / $events" | bc)
echo "cargo build --release of the generated crate: ${seconds} s for $events events (${per_event} ms per event)"
