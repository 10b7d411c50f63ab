# Shared by scripts/bench.sh, scripts/bench-compare.sh and scripts/pgo.sh (sourced, not run).

# synth FILE ARGS...: generates FILE with $OUT/synth ARGS once; a FILE already there (with the generator's
# expected counts beside it) is reused. Delete both to regenerate.
synth() {
  local file=$1
  shift
  if [ -s "$file" ] && [ -s "$file.expected.json" ]; then
    return
  fi
  echo "== generate $file" >&2
  "$OUT/synth" -o "$file" "$@"
}

# measure CSV ROUNDS -n NAME CMD ...: runs every command once per round, ROUNDS rounds, one hyperfine call a
# round (the first also warms each command up once), and writes hyperfine's CSV columns for all rounds
# together to CSV (every run in CSV.runs, a Markdown table beside it). Interleaving the runs means that when
# the machine gets busier or quieter partway (it may be shared), every command is measured in both states,
# instead of the commands that hyperfine happened to be running at the time.
measure() {
  local csv=$1 rounds=$2 round warm i n
  shift 2
  local all="$csv.runs" log="${csv%.csv}.log" spec=("$@") order
  n=$((${#spec[@]} / 3))
  : >"$all"
  : >"$log"
  for round in $(seq 1 "$rounds"); do
    warm=0
    [ "$round" -gt 1 ] || warm=1
    order=() # each round starts one command further on, so that no command always follows the same one
    for i in $(seq 0 $((n - 1))); do
      order+=("${spec[@]:$((3 * ((i + round - 1) % n))):3}")
    done
    echo "   round $round of $rounds" >&2
    hyperfine --style basic --warmup "$warm" --runs 1 --export-csv "$csv.round" "${order[@]}" >>"$log" 2>&1 ||
      { cat "$log" >&2; exit 2; }
    tail -n +2 "$csv.round" >>"$all"
  done
  rm -f "$csv.round"
  awk -F, -f scripts/bench-combine.awk "$all" >"$csv"
  awk -F, 'NR == 1 { print "| command | min (s) | median (s) | mean (s) | user (s) | system (s) |"; print "|---|---|---|---|---|---|"; next }
    { printf "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", $1, $7, $4, $2, $5, $6 }' "$csv" >"${csv%.csv}.md"
  cat "${csv%.csv}.md" >&2
}
