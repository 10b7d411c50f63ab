#!/usr/bin/env bash
# Runs every native Go fuzz target of the project for FUZZTIME each (default 10s), one after the other.
#   FUZZTIME=10m bash scripts/fuzz.sh                  # long run, e.g. before a release
#   FUZZTIME=10000000x bash scripts/fuzz.sh            # exactly ten million executions per target
#   FUZZTIME=5s  bash scripts/fuzz.sh ./rules/         # only the targets under one package
#   FUZZ_ONLY='^FuzzMatch$' bash scripts/fuzz.sh       # only the targets whose name matches (grep -E)
#   FUZZ_SKIP='^FuzzEngine$' bash scripts/fuzz.sh      # all but those
# FUZZMINIMIZETIME (default 10s) caps the time spent shrinking each new interesting input: the fuzzer reports
# no executions while it minimizes, and Go's default of 60s per input stalls long runs for minutes.
# A failure leaves the failing input in that package's testdata/fuzz/<Target>/, which makes it a regression
# test that every later `go test` runs; commit it with the fix. The last line printed for each target holds
# its number of executions.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
minimize="${FUZZMINIMIZETIME:-10s}"
only="${FUZZ_ONLY:-.}"
skip="${FUZZ_SKIP:-^$}"
pkgs=("${@:-./...}")

failed=0
for pkg in $(go list "${pkgs[@]}"); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    if ! grep -Eq -- "$only" <<<"$target" || grep -Eq -- "$skip" <<<"$target"; then
      continue
    fi
    echo "== fuzz $pkg $target ($fuzztime)"
    if ! (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" \
      -fuzzminimizetime "$minimize" . 2>&1 | tail -3); then
      echo "FAIL: $pkg $target" >&2
      failed=1
    fi
  done
done
exit $failed
