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
echo "== promtool, amtool (deploy/)"
(cd deploy/prometheus && promtool check rules intunecap.rules.yml && promtool test rules intunecap.rules.test.yml &&
	promtool check config prometheus.yml)
amtool check-config deploy/alertmanager/alertmanager.yml
echo "== go test"
go test -count=1 ./...
# The concurrent parts (read-ahead, chunks held by workers, the parallel driver and merger) under the race
# detector: the capture package whole, and the analysis of captures with several workers.
echo "== go test -race (capture, parallel analysis)"
go test -race -count=1 ./capture/
go test -race -count=1 -run 'TestWorkers|TestSynth|TestAnalyze' ./analyze/
echo "== fuzz smoke (every target, ${FUZZTIME:-3s} each)"
FUZZTIME="${FUZZTIME:-3s}" bash scripts/fuzz.sh
