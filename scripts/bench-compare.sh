#!/usr/bin/env bash
# bench-compare: is this tree slower than an earlier commit? Builds intunecap at BASE (a git revision, in a
# temporary worktree) and from the working tree, runs both on make bench's captures in interleaved hyperfine
# rounds (every command once a round, the order rotating), and says for each capture and mode whether the
# tree is worse than BASE beyond the run-to-run spread: its fastest run slower than BASE's slowest.
#
#   bash scripts/bench-compare.sh 0deaf19          # the last commit make bench measured meeting every target
#   BENCH_RUNS=10 (rounds)  BENCH_SIZE=1GiB  BENCH_CONNS_SIZE=400MB  (the captures make bench generates)
#
# Prints a table (also in bench/out/compare.md: min and median wall time, user + sys, ratio of medians) and
# exits 1 when any line is worse beyond the spread. Measure on a quiet machine: other work on the cores
# moves every figure.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:?usage: bench-compare.sh BASE (a git revision)}
RUNS=${BENCH_RUNS:-10}
SIZE=${BENCH_SIZE:-1GiB}
CONNS_SIZE=${BENCH_CONNS_SIZE:-400MB}
OUT=bench/out
mkdir -p "$OUT"
command -v hyperfine >/dev/null 2>&1 || { echo "bench-compare: needs hyperfine (make bench installs it)" >&2; exit 2; }

echo "== build $BASE and the working tree" >&2
wt=$(mktemp -d)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git worktree add -q --detach "$wt" "$BASE"
(cd "$wt" && go build -o "$OLDPWD/$OUT/intunecap-base" ./cmd/intunecap)
go build -o "$OUT/intunecap-head" ./cmd/intunecap
go build -o "$OUT/synth" ./tools/synth

source scripts/bench-lib.sh # synth, measure: the captures make bench generates
BIG=$OUT/bench-$SIZE.pcap
SMALL=$OUT/bench-100MB.pcap
CONNS=$OUT/conns-$CONNS_SIZE.pcap
synth "$BIG" -size "$SIZE" -seed 1
synth "$SMALL" -size 100MB -seed 3
synth "$CONNS" -size "$CONNS_SIZE" -seed 5 -mix conns

spec=()
lines=()
for capture in "$BIG" "$SMALL" "$CONNS"; do
  for mode in default w1; do
    flags=""
    [ "$mode" = default ] || flags="--workers 1"
    line="$(basename "$capture" .pcap) $mode"
    lines+=("$line")
    for side in base head; do
      spec+=(-n "$side ${line}" "$OUT/intunecap-$side analyze --format jsonl --fail-on none $flags $capture")
    done
  done
done
echo "== hyperfine, $RUNS interleaved rounds" >&2
measure "$OUT/compare.csv" "$RUNS" "${spec[@]}"

# The verdict of each line, from every run (compare.csv.runs: command,mean,...,user,system,...).
awk -F, -v base="$BASE" '
  { t = $2 + 0; cpu[$1] += $5 + $6; if (!($1 in n)) order[++cmds] = $1; n[$1]++; s[$1, n[$1]] = t
    if (!($1 in lo) || t < lo[$1]) lo[$1] = t
    if (!($1 in hi) || t > hi[$1]) hi[$1] = t }
  function median(c,   i, j, v, m) {
    m = n[c]
    for (i = 2; i <= m; i++) { v = s[c, i]; for (j = i - 1; j >= 1 && s[c, j] > v; j--) s[c, j + 1] = s[c, j]; s[c, j + 1] = v }
    return m % 2 ? s[c, (m + 1) / 2] : (s[c, m / 2] + s[c, m / 2 + 1]) / 2
  }
  END {
    printf "| capture, mode | %s min / median (s) | tree min / median (s) | user + sys, %s / tree (s) | tree / %s (median) | |\n", base, base, base
    print "|---|---|---|---|---|---|"
    worse = 0
    for (k = 1; k <= cmds; k++) {
      c = order[k]
      if (c !~ /^base /) continue
      line = substr(c, 6); h = "head " line
      verdict = "within the spread"
      if (lo[h] > hi[c]) { verdict = "**worse**"; worse = 1 }
      if (hi[h] < lo[c]) verdict = "better"
      printf "| %s | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %.2f | %s |\n", line, lo[c], median(c), lo[h], median(h),
        cpu[c] / n[c], cpu[h] / n[h], median(h) / median(c), verdict
    }
    exit worse
  }' "$OUT/compare.csv.runs" | tee "$OUT/compare.md"
