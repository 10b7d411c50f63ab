#!/usr/bin/env bash
# Runs every native Go fuzz target of the project for FUZZTIME each (default 10s), one after the other.
#   FUZZTIME=10m bash scripts/fuzz.sh            # long run, e.g. before a release
#   FUZZTIME=5s  bash scripts/fuzz.sh ./rules/   # only the targets under one package
# A failure leaves the failing input in that package's testdata/fuzz/<Target>/, which makes it a regression
# test that every later `go test` runs; commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
pkgs=("${@:-./...}")

failed=0
for pkg in $(go list "${pkgs[@]}"); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== fuzz $pkg $target ($fuzztime)"
    if ! (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" . 2>&1 | tail -3); then
      echo "FAIL: $pkg $target" >&2
      failed=1
    fi
  done
done
exit $failed
