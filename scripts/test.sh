#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need, then vet, a cgo-free build, and go test.
# Tests that need ../shared/pcaps read INTUNECAP_SHARED_PCAPS (set by .ci/run); tests that need root and
# network namespaces fail in CI (CI=true) when they cannot run, and skip with a message elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
echo "== go vet"
go vet ./...
echo "== CGO_ENABLED=0 go build"
CGO_ENABLED=0 go build ./...
echo "== go test"
go test -count=1 ./...
echo "== fuzz smoke (every target, ${FUZZTIME:-3s} each)"
FUZZTIME="${FUZZTIME:-3s}" bash scripts/fuzz.sh
