# bench-combine.awk: folds hyperfine CSV rows of single runs (command,mean,stddev,median,user,system,min,max;
# no header), several per command, into one row per command with hyperfine's columns, in the order the
# commands first appear. Used by scripts/bench.sh for its interleaved rounds.
{
  name = $1
  if (!(name in count)) {
    order[++commands] = name
  }
  n = ++count[name]
  times[name, n] = $2 + 0
  user[name] += $5
  sys[name] += $6
}
END {
  print "command,mean,stddev,median,user,system,min,max"
  for (c = 1; c <= commands; c++) {
    name = order[c]
    n = count[name]
    for (i = 1; i <= n; i++) {
      sorted[i] = times[name, i]
    }
    for (i = 2; i <= n; i++) { # insertion sort: a handful of runs
      v = sorted[i]
      for (j = i - 1; j >= 1 && sorted[j] > v; j--) {
        sorted[j + 1] = sorted[j]
      }
      sorted[j + 1] = v
    }
    sum = 0
    for (i = 1; i <= n; i++) {
      sum += sorted[i]
    }
    mean = sum / n
    sq = 0
    for (i = 1; i <= n; i++) {
      sq += (sorted[i] - mean) ^ 2
    }
    stddev = n > 1 ? sqrt(sq / (n - 1)) : 0
    median = n % 2 ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
    printf "%s,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f\n", name, mean, stddev, median, user[name] / n, sys[name] / n,
      sorted[1], sorted[n]
  }
}
