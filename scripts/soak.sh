#!/usr/bin/env bash
# soak.sh: a long run of "intunecap live" at a steady rate, to show that it does not leak and that --write
# survives a full disk. Not run by CI (30 minutes by default); its figures are in docs/reliability.md.
#
# Two network namespaces joined by a veth pair (as live-bench.sh); tcpreplay loops a synthetic capture of many
# short connections (tools/synth -mix conns, so the engine's tables churn) onto the veth at SOAK_PPS, while
# "intunecap live --format text --metrics --write --write-max --write-keep" captures on the other side, writing
# into a small tmpfs. Every SOAK_INTERVAL seconds the script samples RSS (/proc/PID/status VmRSS), the Go heap
# (allocated now, and the collector's goal: twice what was live after the last collection), collections,
# goroutines, the packet and record counters, kernel drops, the --write metrics and the load average into a
# CSV, and checks with capinfos every file --write has finished. From SOAK_FILL_AT to SOAK_FREE_AT (shares of
# the run) it keeps the tmpfs full, then frees it: writing must stop, be said, count what was not written, and
# resume.
#
# It fails (exit 1) when the packet or record counter stalls over an interval (also while the disk is full),
# when, comparing the last quarter of the samples after the warm-up (a fifth of the run, at most 5 minutes)
# with the first quarter,
#   - the mean RSS grew by more than SOAK_RSS_GROWTH_PCT percent (default 10; the least-squares slope is
#     printed too, but a collection's peak moves it too much to judge by),
#   - the median goroutine count grew by more than SOAK_GOROUTINE_SLACK (default 1; a scrape itself runs
#     a few, so single samples vary),
# or when a written file is unreadable, intunecap analysed fewer packets than tcpreplay sent (less kernel
# drops), or the full-disk episode did not show a failure, the count of unwritten packets and a resumption.
#
# Usage: sudo scripts/soak.sh
#   SOAK_MINUTES (30) SOAK_PPS (20000) SOAK_INTERVAL (10) SOAK_OUT (/tmp/intunecap-soak: CSV, stderr, summary)
#   SOAK_CAPTURE (default: generated with tools/synth -mix conns -size 100MB -seed 7)
#   SOAK_FILL=0 skips the full-disk episode; SOAK_FILL_AT (0.4) SOAK_FREE_AT (0.6)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${SOAK_MINUTES:-30}
pps=${SOAK_PPS:-20000}
interval=${SOAK_INTERVAL:-10}
out=${SOAK_OUT:-/tmp/intunecap-soak}
fill=${SOAK_FILL:-1}
fill_at=${SOAK_FILL_AT:-0.4}
free_at=${SOAK_FREE_AT:-0.6}
rss_pct=${SOAK_RSS_GROWTH_PCT:-10}
gor_slack=${SOAK_GOROUTINE_SLACK:-1}
write_max=16MB
write_keep=4
fs_size=96m

[ "$(id -u)" = 0 ] || { echo "soak: must run as root (namespaces, capture, mount)" >&2; exit 1; }
for t in ip tcpreplay curl go capinfos awk mount; do
	command -v "$t" >/dev/null || { echo "soak: missing $t (scripts/deps.sh)" >&2; exit 1; }
done

duration=$((minutes * 60))
warmup=$((duration / 5 < 300 ? duration / 5 : 300))
fill_s=$(awk -v d="$duration" -v f="$fill_at" 'BEGIN { printf "%d", d * f }')
free_s=$(awk -v d="$duration" -v f="$free_at" 'BEGIN { printf "%d", d * f }')
id=soak$$
tx=icap-$id-tx
rx=icap-$id-rx
work=$(mktemp -d /tmp/icap-soak-XXXXXX)
wdir=$work/write
live_pid=
replay_pid=
cleanup() {
	[ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null || true
	[ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null && wait "$live_pid" 2>/dev/null || true
	umount "$wdir" 2>/dev/null || true
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out" "$wdir"

go build -o "$work/intunecap" ./cmd/intunecap
capture=${SOAK_CAPTURE:-}
if [ -z "$capture" ]; then
	capture=$work/conns.pcap
	go run ./tools/synth -o "$capture" -size 100MB -mix conns -seed 7 2>/dev/null
fi
mount -t tmpfs -o size=$fs_size,mode=0700 soak "$wdir"

ip netns add "$tx"
ip netns add "$rx"
ip link add veth0 netns "$tx" type veth peer name veth0 netns "$rx"
for ns in "$tx" "$rx"; do
	# No IPv6 on the link: the namespaces' own router solicitations would be counted beside what is sent.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
	ip -n "$ns" link set veth0 up
done

live_cmd=(live -i veth0 --format text --color never --metrics 127.0.0.1:9181
	--write "$wdir/gw.pcapng" --write-max $write_max --write-keep $write_keep)
ip netns exec "$rx" "$work/intunecap" "${live_cmd[@]}" >/dev/null 2>"$out/live.err" &
live_pid=$!
for _ in $(seq 100); do grep -q "capturing on" "$out/live.err" 2>/dev/null && break; sleep 0.1; done
grep -q "capturing on" "$out/live.err" || { cat "$out/live.err" >&2; echo "soak: live did not start" >&2; exit 1; }

limit=$((pps * duration))
ip netns exec "$tx" tcpreplay -q -i veth0 --pps "$pps" --loop 0 --limit "$limit" "$capture" \
	>"$out/tcpreplay.out" 2>&1 &
replay_pid=$!

# scrape prints the metrics the CSV holds, in its column order (a sum over a metric's series).
scrape() {
	ip netns exec "$rx" curl -sf --max-time 5 http://127.0.0.1:9181/metrics | awk '
		/^#/ { next }
		{ name = $1; sub(/\{.*/, "", name); v[name] += $NF }
		END {
			n = split("go_memstats_heap_alloc_bytes go_memstats_next_gc_bytes go_gc_duration_seconds_count " \
				"go_goroutines intunecap_packets_total " \
				"intunecap_connections_total intunecap_dns_exchanges_total intunecap_kernel_dropped_packets_total " \
				"intunecap_flow_table_connections intunecap_write_ok intunecap_write_failures_total " \
				"intunecap_write_dropped_packets_total", m, " ")
			for (i = 1; i <= n; i++) printf "%s%.0f", (i > 1 ? "," : ""), v[m[i]]
		}'
}

# checkFiles runs capinfos on every --write file but the newest (still being written), once each; with
# "all", on every file. It prints the counts of files seen and unreadable so far.
declare -A checked
unreadable=0
checkFiles() {
	local files f
	mapfile -t files < <(ls -1tr "$wdir"/gw*.pcapng 2>/dev/null)
	if [ "${1:-}" != all ] && [ ${#files[@]} -gt 0 ]; then
		unset 'files[-1]'
	fi
	for f in "${files[@]}"; do
		[ -n "${checked[$f]:-}" ] && continue
		if capinfos -c "$f" >"$work/capinfos.out" 2>&1; then
			checked[$f]=ok
		elif [ -e "$f" ]; then
			checked[$f]=bad
			unreadable=$((unreadable + 1))
			echo "soak: unreadable: $f: $(tail -1 "$work/capinfos.out")" >&2
			cp "$f" "$out/" 2>/dev/null || true
		fi
	done
}

csv=$out/soak.csv
echo "t_s,rss_kb,heap_bytes,heap_goal_bytes,gcs,goroutines,packets,connections,dns,kernel_drops,flow_table,write_ok,write_failures,write_dropped,disk_full,files_checked,files_unreadable,load1" >"$csv"
start=$(date +%s)
full=0
sample() {
	local t rss m
	t=$(($(date +%s) - start))
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$live_pid/status")
	m=$(scrape)
	checkFiles
	echo "$t,$rss,$m,$full,${#checked[@]},$unreadable,$(cut -d' ' -f1 /proc/loadavg)" >>"$csv"
}

echo "soak: $minutes min at $pps packets/s from $capture; samples in $csv (load: $(cut -d' ' -f1-3 /proc/loadavg))"
while kill -0 "$replay_pid" 2>/dev/null; do
	sleep "$interval"
	t=$(($(date +%s) - start))
	if [ "$fill" = 1 ] && [ "$t" -ge "$fill_s" ] && [ "$t" -lt "$free_s" ]; then
		full=1
		cat /dev/zero >>"$wdir/filler" 2>/dev/null || true # again each time: rotation may free some
	elif [ "$full" = 1 ]; then
		rm -f "$wdir/filler"
		full=0
	fi
	sample
done
wait "$replay_pid" || true
replay_pid=
sleep 2
sample
kill -INT "$live_pid"
live_status=0
wait "$live_pid" || live_status=$?
live_pid=
checkFiles all

sent=$(awk '/Actual:/ { print $2; exit }' "$out/tcpreplay.out")
load=$(cut -d' ' -f1-3 /proc/loadavg)
awk -F, -v warm="$warmup" -v sent="${sent:-0}" -v rss_pct="$rss_pct" -v slack="$gor_slack" \
	-v fill="$fill" -v live_status="$live_status" -v unreadable="$unreadable" -v files="${#checked[@]}" \
	-v said_fail="$(grep -c 'analysis goes on' "$out/live.err" || true)" \
	-v said_resume="$(grep -c 'writing again' "$out/live.err" || true)" -v loadend="$load" '
# median of v[from..to], sorted in a copy (a quarter of the samples: a few hundred at most)
function median(v, from, to,    a, i, j, k, x) {
	k = 0
	for (i = from; i <= to; i++) {
		x = v[i]
		for (j = k; j > 0 && a[j] > x; j--) a[j+1] = a[j]
		a[j+1] = x; k++
	}
	return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
}
function mean(v, from, to,    i, s) {
	for (i = from; i <= to; i++) s += v[i]
	return s / (to - from + 1)
}
NR == 1 { next }
{
	n++; t[n] = $1; rss[n] = $2; goal[n] = $4; gcs = $5; gor[n] = $6; pk[n] = $7; rec[n] = $8 + $9; drops = $10
	wok = $12; wfail = $13; wdrop = $14; load += $18
	if (rss[n] > rssmax) rssmax = rss[n]
}
END {
	bad = ""
	for (i = 1; i <= n; i++) {
		if (i > 1 && i < n && (pk[i] <= pk[i-1] || rec[i] <= rec[i-1]))
			bad = bad sprintf("counters stalled between %ds and %ds; ", t[i-1], t[i])
		if (t[i] < warm) continue
		w++; wt[w] = t[i]; wrss[w] = rss[i]; wgor[w] = gor[i]; wgoal[w] = goal[i]
		if (w == 1) { gmin = gor[i]; gmax = gor[i]; goalmin = goal[i] }
		if (goal[i] < goalmin) goalmin = goal[i]
		if (goal[i] > goalmax) goalmax = goal[i]
		if (gor[i] < gmin) gmin = gor[i]
		if (gor[i] > gmax) gmax = gor[i]
		if (rss[i] > wmax) wmax = rss[i]
		sx += t[i]; sy += rss[i]; sxx += t[i] * t[i]; sxy += t[i] * rss[i]
	}
	q = int(w / 4)
	if (q < 1) { print "soak: FAIL: too few samples after the warm-up"; exit 1 }
	slope = (w > 1) ? (w * sxy - sx * sy) / (w * sxx - sx * sx) * 600 : 0
	r1 = mean(wrss, 1, q); r2 = mean(wrss, w - q + 1, w); growth = 100 * (r2 - r1) / r1
	g1 = median(wgor, 1, q); g2 = median(wgor, w - q + 1, w)
	printf "samples:      %d over %d s (warm-up %d s); 1-minute load average %.1f on average, %s at the end\n",
		n, t[n], warm, load / n, loadend
	printf "RSS (MiB):    %.0f first, %.0f last, %.0f max after warm-up (%.0f max in all); slope %+.1f MiB per 10 min\n",
		wrss[1] / 1024, wrss[w] / 1024, wmax / 1024, rssmax / 1024, slope / 1024
	printf "              mean %.1f in the first quarter after warm-up, %.1f in the last: %+.1f %% (limit %d %%)\n",
		r1 / 1024, r2 / 1024, growth, rss_pct
	printf "heap goal:    %.0f to %.0f MiB after warm-up (twice the live heap after a collection); %d collections\n",
		goalmin / 1048576, goalmax / 1048576, gcs
	printf "goroutines:   %d to %d after warm-up; median %.1f in the first quarter, %.1f in the last (slack %d)\n",
		gmin, gmax, g1, g2, slack
	printf "packets:      %d analysed, %d sent by tcpreplay, %d dropped by the kernel (%.1f %%); %d records\n",
		pk[n], sent, drops, (sent > 0 ? 100 * drops / sent : 0), rec[n]
	printf "--write:      %d failures, %d said, %d resumptions said, %d packets not written, write_ok %d at the end\n",
		wfail, said_fail, said_resume, wdrop, wok
	printf "files:        %d checked with capinfos, %d unreadable\n", files, unreadable
	if (growth > rss_pct) bad = bad "RSS grows; "
	if (g2 - g1 > slack) bad = bad "goroutines grow; "
	if (pk[n] + drops < sent) bad = bad "fewer packets analysed than sent; "
	if (unreadable > 0) bad = bad "unreadable files; "
	if (live_status != 0 && live_status != 1 && live_status != 3) bad = bad "live exited " live_status "; "
	if (fill == 1 && (wfail < 1 || said_fail < 1 || said_resume < 1 || wdrop < 1 || wok != 1))
		bad = bad "the full-disk episode did not fail, count and resume; "
	if (bad != "") { print "soak: FAIL: " bad; exit 1 }
	print "soak: PASS"
}' "$csv" | tee "$out/summary.txt"
