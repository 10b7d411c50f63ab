#!/usr/bin/env bash
# Regenerates cmd/intunecap/default.pgo, the CPU profile that `go build` uses for profile-guided optimisation
# (Go's -pgo=auto: every build of ./cmd/intunecap picks it up, tests of package main too). The profile is
# taken from intunecap built without it, on the captures of make bench: the bulk one with the default and
# with --workers 1, the 100 MB one, and the connection-heavy one with both, so that neither mix is favoured.
#
#   PGO_ROUNDS=8   runs of each command (each run adds about a hundred samples a second of CPU)
#
# Run it after changes to the per-packet path, and commit the new profile with the figures of make bench or
# scripts/bench-compare.sh that show what it changed (docs/performance.md). A stale profile is still correct:
# it only guides inlining and devirtualisation, and the compiler ignores what no longer matches.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
ROUNDS=${PGO_ROUNDS:-8}
mkdir -p "$OUT"
go build -o "$OUT/synth" ./tools/synth
go build -pgo=off -o "$OUT/intunecap-nopgo" ./cmd/intunecap

source scripts/bench-lib.sh # synth: the same files and seeds as scripts/bench.sh
synth "$OUT/bench-1GiB.pcap" -size 1GiB -seed 1
synth "$OUT/bench-100MB.pcap" -size 100MB -seed 3
synth "$OUT/conns-400MB.pcap" -size 400MB -seed 5 -mix conns

profiles=$(mktemp -d)
trap 'rm -rf "$profiles"' EXIT
run() { # NAME ARGS...: one profiled run
  local name=$1
  shift
  "$OUT/intunecap-nopgo" analyze --format jsonl --fail-on none --cpuprofile "$profiles/$name.$round.pprof" "$@" >/dev/null
}
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS" >&2
  run bulk "$OUT/bench-1GiB.pcap"
  run bulk-w1 --workers 1 "$OUT/bench-1GiB.pcap"
  run small "$OUT/bench-100MB.pcap"
  run conns "$OUT/conns-400MB.pcap"
  run conns-w1 --workers 1 "$OUT/conns-400MB.pcap"
done
go tool pprof -proto "$profiles"/*.pprof >cmd/intunecap/default.pgo 2>/dev/null
echo "wrote cmd/intunecap/default.pgo ($(wc -c <cmd/intunecap/default.pgo) bytes)" >&2
