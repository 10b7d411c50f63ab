#!/usr/bin/env bash
# Computes the JA4 parts b and c from lists of hex values with coreutils alone, so the expected values in
# ja4_test.go do not come from the package under test. Values are 4-digit lower-case hex, comma-separated,
# GREASE already removed by the caller (the test shows the lists it typed in).
#   by-hand.sh CIPHERS EXTENSIONS SIGALGS
# prints the raw b and c parts (ja4_r) and their truncated SHA-256 (ja4).
set -euo pipefail
sorted() { tr ',' '\n' <<<"$1" | { grep -v '^$' || true; } | sort | paste -sd, - ; }
hash12() { if [ -z "$1" ]; then echo 000000000000; else printf '%s' "$1" | sha256sum | cut -c1-12; fi; }
b=$(sorted "$1")
exts=$(tr ',' '\n' <<<"$2" | grep -vxE '0000|0010' | paste -sd, - || true)
c=$(sorted "$exts")
if [ -n "$3" ] && [ -n "$c" ]; then c="${c}_$3"; fi
echo "raw  b=$b"
echo "raw  c=$c"
echo "hash b=$(hash12 "$b") c=$(hash12 "$c")"
