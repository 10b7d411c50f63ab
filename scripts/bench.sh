#!/usr/bin/env bash
# make bench: measures intunecap against the yardstick (tools/yardstick: the least a Go program must do to read
# and decode every packet) and against tshark's field extraction, side by side in interleaved hyperfine runs,
# plus peak RSS, and checks the targets of issue 6. Exits 1 when a target is missed.
#
#   BENCH_RUNS=10       rounds, each running every command once
#   BENCH_TSHARK_RUNS=3 rounds of the comparison with tshark on the main capture (about 50 s each)
#   BENCH_STAT=min      which of hyperfine's times the ratios use: min (default: the least disturbed run, as the
#                       machine may be shared), median or mean
#   BENCH_GO_COUNT=6    -count of the Go benchmarks (benchstat wants 6 or more); 0 skips them
#   BENCH_SIZE=1GiB     size of the main capture (the memory check uses one twice as big)
#   BENCH_CONNS_SIZE=400MB size of the connection-heavy capture (synth -mix conns: a thousand sessions in
#                       flight, mostly DNS, handshakes and resets of a few KB, some downloads; about 1,300
#                       packets and 40 connections a MB)
#
# Captures are generated once into bench/out/ (gitignored) and reused; delete them to regenerate.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
RUNS=${BENCH_RUNS:-10}
TSHARK_RUNS=${BENCH_TSHARK_RUNS:-3}
STAT=${BENCH_STAT:-min}
GO_COUNT=${BENCH_GO_COUNT:-6}
SIZE=${BENCH_SIZE:-1GiB}
DOUBLE=${BENCH_SIZE2:-2GiB}
CONNS_SIZE=${BENCH_CONNS_SIZE:-400MB}
mkdir -p "$OUT"

# --- tools --------------------------------------------------------------------------------------------------
need=()
# libpcap-dev: intunecap is built as users build it, with cgo live capture (gopacket/pcap needs pcap.h).
dpkg-query -W -f='${Status}' libpcap-dev 2>/dev/null | grep -q 'install ok installed' || need+=(libpcap-dev)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "bench: need root (or sudo) to install: ${need[*]}" >&2; exit 2; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections || true
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== build" >&2
go build -o "$OUT/intunecap" ./cmd/intunecap
go build -o "$OUT/yardstick" ./tools/yardstick
go build -o "$OUT/synth" ./tools/synth

# --- captures -----------------------------------------------------------------------------------------------
source scripts/bench-lib.sh # synth, measure
BIG=$OUT/bench-$SIZE.pcap
BIG2=$OUT/bench-$DOUBLE.pcap
SMALL=$OUT/bench-100MB.pcap
FLOOD=$OUT/synflood-1M.pcap
CONNS=$OUT/conns-$CONNS_SIZE.pcap
synth "$BIG" -size "$SIZE" -seed 1
synth "$BIG2" -size "$DOUBLE" -seed 2
synth "$SMALL" -size 100MB -seed 3
synth "$FLOOD" -syn-flood 1000000 -seed 4
synth "$CONNS" -size "$CONNS_SIZE" -seed 5 -mix conns

packets() { sed -n 's/^ *"packets": \([0-9]*\).*/\1/p' "$1.expected.json"; }

# --- speed: interleaved hyperfine rounds --------------------------------------------------------------------
IC="$OUT/intunecap analyze --format jsonl --fail-on none"
# tshark's field extraction, as issue 6 words it.
tshark_cmd() { echo "tshark -r $1 -n -Y 'tls.handshake.type==1 || dns || http.request' -T fields -e tls.handshake.extensions_server_name -e dns.qry.name -e http.host"; }
TSHARK=$(tshark_cmd "$SMALL")
names=()
cmds=()
add() { names+=(-n "$1"); cmds+=("$2"); }
CORES=$(nproc)
# One engine (--workers 1) as a user runs it; the same pinned to one core (GOMAXPROCS follows the affinity, so
# the engine runs in the reading goroutine); the default, which uses every core (cores-1 engines, one core for
# reading); and one engine per core.
add intunecap-w1 "$IC --workers 1 $BIG"
add intunecap-1core "taskset -c 0 $IC --workers 1 $BIG"
add intunecap-default "$IC $BIG"
add intunecap-w$CORES "$IC --workers $CORES $BIG"
add yardstick "$OUT/yardstick $BIG"
# The connection-heavy capture: most packets open, name or close a connection.
add intunecap-conns-w1 "$IC --workers 1 $CONNS"
add intunecap-conns-default "$IC $CONNS"
add yardstick-conns "$OUT/yardstick $CONNS"
add intunecap-100MB "$IC $SMALL"
add tshark-100MB "$TSHARK"
args=()
for i in "${!cmds[@]}"; do
  args+=("${names[$((2 * i))]}" "${names[$((2 * i + 1))]}" "${cmds[$i]}")
done
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== hyperfine, $RUNS interleaved rounds" >&2
measure "$OUT/hyperfine.csv" "$RUNS" "${args[@]}"
# tshark on the main capture takes about 45 s a run, so it has rounds of its own, fewer, with
# intunecap beside it.
echo "== hyperfine, tshark on $BIG, $TSHARK_RUNS interleaved rounds" >&2
measure "$OUT/hyperfine-tshark.csv" "$TSHARK_RUNS" -n intunecap-big "$IC $BIG" -n tshark-big "$(tshark_cmd "$BIG")"

# seconds NAME: the chosen statistic of NAME's runs, from hyperfine's CSV
# (command,mean,stddev,median,user,system,min,max).
seconds() { # NAME [CSV]
  local c csv=${2:-$OUT/hyperfine.csv}
  case $STAT in
    mean) c=2 ;;
    median) c=4 ;;
    min) c=7 ;;
    *) echo "bench: BENCH_STAT=$STAT is not min, median or mean" >&2; exit 2 ;;
  esac
  awk -F, -v n="$1" -v c="$c" '$1 == n { print $c }' "$csv"
}
pps() { awk -v p="$1" -v t="$2" 'BEGIN { printf "%.0f", p / t }'; }

# --- memory -------------------------------------------------------------------------------------------------
rss() { # LABEL CMD...: peak RSS in KiB
  local log="$OUT/rss-$1.txt"
  shift
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  sed -n 's/.*Maximum resident set size (kbytes): //p' "$log"
}
echo "== peak RSS" >&2
RSS_BIG=$(rss big $IC "$BIG")
RSS_BIG2=$(rss double $IC "$BIG2")
RSS_FLOOD=$(rss flood $IC "$FLOOD")
RSS_YARD=$(rss yardstick "$OUT/yardstick" "$BIG")
RSS_TSHARK=$(rss tshark tshark -r "$BIG" -n -Y 'tls.handshake.type==1 || dns || http.request' -T fields \
  -e tls.handshake.extensions_server_name -e dns.qry.name -e http.host)

# --- Go benchmarks ------------------------------------------------------------------------------------------
ALLOCS="not run"
if [ "$GO_COUNT" -gt 0 ]; then
  if [ -z "${INTUNECAP_SHARED_PCAPS:-}" ] && [ -d ../shared/pcaps ]; then
    INTUNECAP_SHARED_PCAPS="$(cd ../shared/pcaps && pwd)"
    export INTUNECAP_SHARED_PCAPS
  fi
  echo "== go test -bench (count $GO_COUNT) > $OUT/go-bench.txt" >&2
  go test -run x -bench . -benchmem -count "$GO_COUNT" ./analyze/... ./rules/ ./capture/ >"$OUT/go-bench.txt"
  ALLOCS=$(awk '/^BenchmarkEngineNamedConnection/ { for (i = 1; i < NF; i++) if ($(i+1) == "allocs/op") print $i }' \
    "$OUT/go-bench.txt" | sort -n | tail -1)
  [ -n "$ALLOCS" ] || ALLOCS="missing"
fi

# --- report -------------------------------------------------------------------------------------------------
P_BIG=$(packets "$BIG")
P_SMALL=$(packets "$SMALL")
P_CONNS=$(packets "$CONNS")
YARD_CONNS=$(pps "$P_CONNS" "$(seconds yardstick-conns)")
W1=$(pps "$P_BIG" "$(seconds intunecap-w1)")
YARD=$(pps "$P_BIG" "$(seconds yardstick)")
ICS=$(pps "$P_SMALL" "$(seconds intunecap-100MB)")
TSH=$(pps "$P_SMALL" "$(seconds tshark-100MB)")
ICB=$(pps "$P_BIG" "$(seconds intunecap-big "$OUT/hyperfine-tshark.csv")")
TSHB=$(pps "$P_BIG" "$(seconds tshark-big "$OUT/hyperfine-tshark.csv")")
check() { # NAME MEASURED OP LIMIT
  local verdict
  if awk -v m="$2" -v l="$4" -v op="$3" 'BEGIN { exit !((op == ">=" && m >= l) || (op == "<=" && m <= l)) }'; then
    verdict=met
  else
    verdict=MISSED
  fi
  printf '%-52s %12s  (target %s %s)  %s\n' "$1" "$2" "$3" "$4" "$verdict"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
  echo "intunecap make bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
  echo "capture $BIG: $P_BIG packets; $SMALL: $P_SMALL packets; $CONNS: $P_CONNS packets; times: $STAT of $RUNS interleaved runs; load before: $LOAD"
  printf 'packets/s: intunecap 1 worker %s, yardstick %s; beside tshark (%s runs): intunecap %s, tshark %s\n' \
    "$W1" "$YARD" "$TSHARK_RUNS" "$ICB" "$TSHB"
  check "1 worker / yardstick (pps ratio)" "$(ratio "$W1" "$YARD")" ">=" 0.6
  check "1 worker on one core / yardstick (pps ratio)" "$(ratio "$(pps "$P_BIG" "$(seconds intunecap-1core)")" "$YARD")" ">=" 0.6
  check "default, all $CORES cores / yardstick (pps ratio)" "$(ratio "$(pps "$P_BIG" "$(seconds intunecap-default)")" "$YARD")" ">=" 1.0
  printf '%-52s %12s  (for comparison)\n' "$CORES workers / yardstick (pps ratio)" \
    "$(ratio "$(pps "$P_BIG" "$(seconds "intunecap-w$CORES")")" "$YARD")"
  printf '%-52s %12s  (for comparison)\n' "conns: 1 worker / yardstick (pps ratio)" \
    "$(ratio "$(pps "$P_CONNS" "$(seconds intunecap-conns-w1)")" "$YARD_CONNS")"
  check "conns: default, all $CORES cores / yardstick (pps ratio)" \
    "$(ratio "$(pps "$P_CONNS" "$(seconds intunecap-conns-default)")" "$YARD_CONNS")" ">=" 1.0
  check "intunecap / tshark, $SIZE capture (pps ratio)" "$(ratio "$ICB" "$TSHB")" ">=" 50
  printf '%-52s %12s  (for comparison: start-up counts)\n' "intunecap / tshark, 100MB capture (pps ratio)" "$(ratio "$ICS" "$TSH")"
  check "peak RSS, $SIZE capture (MiB)" "$((RSS_BIG / 1024))" "<=" 128
  check "peak RSS, $DOUBLE capture (MiB)" "$((RSS_BIG2 / 1024))" "<=" 128
  check "peak RSS, 1M half-open connections (MiB)" "$((RSS_FLOOD / 1024))" "<=" 512
  if [ "$ALLOCS" = "not run" ] || [ "$ALLOCS" = missing ]; then
    printf '%-52s %12s  (target <= 0)\n' "allocs/op, packet of a named connection" "$ALLOCS"
  else
    check "allocs/op, packet of a named connection" "$ALLOCS" "<=" 0
  fi
  echo "for comparison: peak RSS yardstick $((RSS_YARD / 1024)) MiB, tshark $((RSS_TSHARK / 1024)) MiB"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
if grep -q MISSED "$OUT/summary.txt"; then
  echo "bench: some targets were missed (see above; details in $OUT/)" >&2
  exit 1
fi
