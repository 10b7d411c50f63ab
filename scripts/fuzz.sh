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

# A duration-bound run can end in a bare "context deadline exceeded" with no failing input: a race in Go's
# fuzzing coordinator at the -fuzztime boundary (go.dev/issue/75804, fixed in Go 1.27). Such a run is
# reported as a pass with a note; any other failure, or one that wrote an input, fails. A failure prints
# the whole output, not only its last lines.
count_inputs() { # corpus-dir
  if [[ -d "$1" ]]; then find "$1" -type f | wc -l; else echo 0; fi
}
deadline_race() { # output-file corpus-dir inputs-before
  local out=$1 corpus=$2 before=$3
  [[ "$(count_inputs "$corpus")" == "$before" ]] || return 1
  grep -q -- '^--- FAIL: ' "$out" || return 1
  ! grep -v -e '^fuzz: ' -e '^--- FAIL: ' -e '^    context deadline exceeded$' -e '^FAIL' -e '^exit status 1$' \
    -e '^ok ' -e '^PASS$' "$out" | grep -q .
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
for pkg in $(go list "${pkgs[@]}"); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    if ! grep -Eq -- "$only" <<<"$target" || grep -Eq -- "$skip" <<<"$target"; then
      continue
    fi
    echo "== fuzz $pkg $target ($fuzztime)"
    corpus="$dir/testdata/fuzz/$target"
    before=$(count_inputs "$corpus")
    if (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" \
      -fuzzminimizetime "$minimize" . >"$out" 2>&1); then
      tail -3 "$out"
    elif [[ "$fuzztime" != *x ]] && deadline_race "$out" "$corpus" "$before"; then
      grep '^fuzz: ' "$out" | tail -1
      echo "PASS (the run ended in Go's fuzztime deadline race, go.dev/issue/75804; no failing input)"
    else
      cat "$out"
      echo "FAIL: $pkg $target" >&2
      failed=1
    fi
  done
done
exit $failed
