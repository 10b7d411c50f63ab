#!/usr/bin/env bash
# record.sh: record the baseline pair used by the regression tests (cmd/intunecap/check_cmd_test.go).
#
#   good.pcap   a device enrolling: DNS, TLS to four Intune names, HTTP, one unlisted name.
#   worse.pcap  the same traffic after one firewall change: the gateway rejects TCP to fe2.update.microsoft.com
#               (198.18.1.14:443) with a TCP reset.
#
# "intunecap check --baseline good.json worse.pcap" must show exactly what that rule broke: requirement
# intune-2015:14 (*.update.microsoft.com) goes from ok to failing, and fe2.update.microsoft.com is a new reset
# name. Nothing else may differ.
#
# Usage (root, network namespaces; the lab uses only 198.18.0.0/15 inside its namespaces):
#   testdata/baseline/record.sh [OUTDIR]     # default: the directory of this script
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB_SOURCE_ONLY=1 source "$REPO/tools/netlab/lab.sh"

OUT=${1:-$HERE}
CAP_PID=

die() {
	echo "record.sh: $*" >&2
	exit 1
}

dev() { lab_exec dev "$@"; }

# step separates the parts of the traffic in time, so that the capture reads in order.
step() { sleep 0.3; }

curl_() {
	dev curl -sk --max-time 5 -o /dev/null "$@" || true
	step
}

dig_() {
	dev dig +tries=1 +timeout=1 +nocookie "$@" >/dev/null || true
	step
}

# traffic is the same in both captures; only the gateway's firewall differs.
traffic() {
	dig_ @198.18.0.1 A enrollment.manage.microsoft.com
	curl_ --resolve enrollment.manage.microsoft.com:443:198.18.1.10 https://enrollment.manage.microsoft.com/
	curl_ --resolve login.microsoftonline.com:443:198.18.1.13 https://login.microsoftonline.com/
	dig_ @198.18.0.1 A fe2.update.microsoft.com
	curl_ --resolve fe2.update.microsoft.com:443:198.18.1.14 https://fe2.update.microsoft.com/
	curl_ --resolve go.microsoft.com:80:198.18.1.20 http://go.microsoft.com/
	curl_ --resolve graph.windows.net:443:198.18.1.30 https://graph.windows.net/
}

cleanup() {
	lab_capture_stop
	if [ -n "${LAB_ID:-}" ]; then lab_down; fi
	if [ -n "${REC_TMP:-}" ]; then rm -rf "$REC_TMP"; fi
}

# record_one NAME FIREWALL...: a fresh lab, the firewall rule (if any) on the gateway, the traffic, captured.
record_one() {
	local name=$1 n=$2
	shift 2
	LAB_ID=bl$$-$n
	LAB_STATE=$REC_TMP/lab-$n
	LAB_VLAN=
	lab_up >/dev/null
	if [ $# -gt 0 ]; then lab_exec net iptables "$@"; fi
	local file=$OUT/$name.pcap
	rm -f "$file"
	lab_capture_start tcpdump veth0 0 "$file"
	traffic
	sleep 1
	lab_capture_stop
	lab_down
	LAB_ID=
	echo "record.sh: $name -> $file ($(stat -c %s "$file") bytes)"
}

main() {
	lab_require ip ss iptables tcpdump dig curl tinyproxy go
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	REC_TMP=$(mktemp -d /tmp/icap-bl-XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	LABD=$REC_TMP/labd
	(cd "$REPO" && CGO_ENABLED=0 go build -o "$LABD" ./tools/netlab/labd) || die "build labd failed"
	record_one good 1
	record_one worse 2 -I INPUT -d 198.18.1.14 -p tcp --syn --dport 443 -j REJECT --reject-with tcp-reset
}

main "$@"
