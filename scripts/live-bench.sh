#!/usr/bin/env bash
# live-bench.sh: the highest packet rate "intunecap live" keeps up with, with zero kernel drops.
#
# Two network namespaces joined by a veth pair; a sender replays a capture from one side at rising rates
# while "intunecap live --metrics" captures on the other. After each step the script scrapes the metrics:
# the step passes when the kernel dropped nothing and every packet sent was analyzed. A step counts at the
# rate the sender really reached ("sent pps"), which on a busy machine can be below the rate asked for; the
# "live cpu" column is the CPU time live took during the step, in percent of one core. Needs root. The
# figure is recorded in docs/live.md.
#
# Usage: sudo scripts/live-bench.sh [CAPTURE] [RATE...]     (default testdata/pcaps/demo.pcapng and
#        5000 10000 20000 50000 100000 200000 300000 400000 500000 600000 packets a second; the rate "max"
#        sends 1,000,000 packets as fast as the sender can)
# Environment: SECONDS_PER_STEP (default 3); CAPTURE_METHOD afpacket or pcap (default: live's own default);
# SENDER (default replay):
#   replay    tools/replay: sendmmsg on a packet socket, 64 frames a system call, paced on an absolute
#             schedule; on a 2-vCPU VM it reaches 2,000,000 packets/s alone and holds any lower rate.
#   tcpreplay one system call a packet (Debian: apt-get install tcpreplay); tops out near 250,000 packets/s
#             on a 2-vCPU VM with live capturing.
#   trafgen   netsniff-ng's trafgen (apt-get install netsniff-ng); its paced mode is one system call a
#             packet too (about 400,000 packets/s there), its unpaced mode ("max") a TX ring.
set -euo pipefail
cd "$(dirname "$0")/.."

capture=${1:-testdata/pcaps/demo.pcapng}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(5000 10000 20000 50000 100000 200000 300000 400000 500000 600000)
step=${SECONDS_PER_STEP:-3}
method=${CAPTURE_METHOD:-auto}
sender=${SENDER:-replay}
[ "$(id -u)" = 0 ] || { echo "live-bench: must run as root (namespaces, capture)" >&2; exit 1; }
case $sender in
replay) tools=(ip curl go) ;;
tcpreplay) tools=(ip curl go tcpreplay) ;;
trafgen) tools=(ip curl go trafgen netsniff-ng editcap) ;;
*) echo "live-bench: SENDER must be replay, tcpreplay or trafgen" >&2; exit 2 ;;
esac
for t in "${tools[@]}"; do
	command -v "$t" >/dev/null || { echo "live-bench: missing $t (scripts/deps.sh)" >&2; exit 1; }
done

id=bench$$
tx=icap-$id-tx
rx=icap-$id-rx
work=$(mktemp -d /tmp/icap-bench-XXXXXX)
live_pid=
cleanup() {
	[ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null && wait "$live_pid" 2>/dev/null || true
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/intunecap" ./cmd/intunecap
[ "$sender" = replay ] && go build -o "$work/replay" ./tools/replay
if [ "$sender" = trafgen ]; then # trafgen sends a packet list in its own config language
	editcap -F pcap "$capture" "$work/capture.pcap"
	netsniff-ng --in "$work/capture.pcap" --out "$work/capture.cfg" --silent >/dev/null 2>&1
fi
ip netns add "$tx"
ip netns add "$rx"
ip link add veth0 netns "$tx" type veth peer name veth0 netns "$rx"
for ns in "$tx" "$rx"; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set veth0 up
done

ip netns exec "$rx" "$work/intunecap" live -i veth0 --capture-method "$method" --format jsonl --metrics 127.0.0.1:9181 \
	>/dev/null 2>"$work/live.err" &
live_pid=$!
for _ in $(seq 50); do grep -q "capturing on" "$work/live.err" 2>/dev/null && break; sleep 0.1; done

metric() {
	ip netns exec "$rx" curl -sf http://127.0.0.1:9181/metrics | awk -v m="$1" '$1 == m { printf "%d\n", $2 }'
}

# send RATE COUNT sends COUNT packets at RATE a second and sets sent and actual (the rate reached).
send() {
	if [ "$sender" = replay ]; then
		local rate=$1 out
		[ "$rate" = max ] && rate=0
		out=$(ip netns exec "$tx" "$work/replay" -i veth0 -rate "$rate" -count "$2" "$capture")
		sent=$2
		actual=$(awk '{ print $NF == "packets/s" ? $(NF-1) : 0 }' <<<"$out")
		return
	fi
	if [ "$sender" = trafgen ]; then
		local t0 t1
		t0=$(date +%s%N)
		local pace=(--rate "${1}pps")
		[ "$1" = max ] && pace=()
		ip netns exec "$tx" trafgen --dev veth0 --conf "$work/capture.cfg" --cpus 1 --num "$2" "${pace[@]}" \
			--no-cpu-stats >/dev/null 2>&1
		t1=$(date +%s%N)
		sent=$2
		actual=$(( $2 * 1000000000 / (t1 - t0) ))
		return
	fi
	local out
	local pace=(--pps "$1")
	[ "$1" = max ] && pace=(--topspeed)
	out=$(ip netns exec "$tx" tcpreplay -q -i veth0 "${pace[@]}" --loop 0 --limit "$2" "$capture" 2>&1)
	sent=$(awk '/Actual:/ { print $2; exit }' <<<"$out")
	actual=$(awk '/Rated:/ { printf "%d", $(NF-1); exit }' <<<"$out")
}

# cpu_ticks is the CPU time live has taken (user + system), in clock ticks.
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$live_pid/stat"; }

best=0
echo "live-bench: $(uptime) ($sender)"
printf '%10s %10s %10s %10s %10s %9s\n' "pps" "sent pps" "sent" "analyzed" "dropped" "live cpu"
for rate in "${rates[@]}"; do
	limit=1000000
	[ "$rate" = max ] || limit=$((rate * step))
	drops0=$(metric intunecap_kernel_dropped_packets_total)
	pkts0=$(metric intunecap_packets_total)
	cpu0=$(cpu_ticks); t0=$(date +%s%N)
	send "$rate" "$limit"
	cpu1=$(cpu_ticks); t1=$(date +%s%N)
	sleep 1
	drops=$(( $(metric intunecap_kernel_dropped_packets_total) - drops0 ))
	pkts=$(( $(metric intunecap_packets_total) - pkts0 ))
	printf '%10s %10s %10s %10s %10s %8d%%\n' "$rate" "$actual" "$sent" "$pkts" "$drops" \
		$(( (cpu1 - cpu0) * 1000000000 / tick / ((t1 - t0) / 100) ))
	if [ "$drops" -eq 0 ] && [ "$pkts" -ge "${sent:-0}" ]; then
		best=$(( actual > best ? actual : best ))
	else
		break
	fi
done
echo "live-bench: $(uptime)"
echo "live-bench: highest rate sent with zero kernel drops: $best packets/s ($(nproc) CPUs, $capture, $(sed -n 's/.*capturing on [^ ]* (\([^)]*\)).*/\1/p' "$work/live.err"))"
