#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need, then vet, a cgo-free build, and go test.
# Tests that need the shared captures read INTUNECAP_SHARED_PCAPS (set by .ci/run, else ../shared/pcaps when it
# exists); tests that need root and
# network namespaces fail in CI (CI=true) when they cannot run, and skip with a message elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
# The shared public captures: found next to the checkout when nobody said where they are.
if [ -z "${INTUNECAP_SHARED_PCAPS:-}" ] && [ -d ../shared/pcaps ]; then
  INTUNECAP_SHARED_PCAPS="$(cd ../shared/pcaps && pwd)"
  export INTUNECAP_SHARED_PCAPS
fi
if [ -n "${INTUNECAP_SHARED_PCAPS:-}" ]; then
  echo "== shared captures: $INTUNECAP_SHARED_PCAPS"
else
  echo "== shared captures: none (no ../shared/pcaps, INTUNECAP_SHARED_PCAPS unset): the tests that read them skip"
fi
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
# The concurrent parts (read-ahead, chunks held by workers, the parallel driver and merger, the chain
# verifier every worker shares and builds on first use) under the race detector: the capture package whole,
# the analysis of captures with several workers, and the verifier's first chains asked at once.
echo "== go test -race (capture, parallel analysis, shared chain verifier)"
go test -race -count=1 ./capture/
go test -race -count=1 -run 'TestWorkers|TestSynth|TestAnalyze|TestRecordSlices' ./analyze/
go test -race -count=1 -run 'TestPublicVerifier' ./analyze/certchain/
echo "== fuzz smoke (every target, ${FUZZTIME:-3s} each)"
FUZZTIME="${FUZZTIME:-3s}" bash scripts/fuzz.sh
