#!/usr/bin/env bash
# Regenerates tshark-ja3.tsv: tshark's own JA3 and JA3S (tls.handshake.ja3_full / ja3 / ja3s_full / ja3s) for
# every TLS-over-TCP ClientHello and ServerHello of the shared public captures, the second reference
# TestSharedCapturesJA3 compares the package with. Needs tshark (4.0.17 made the committed file).
#   INTUNECAP_SHARED_PCAPS=/work/shared/pcaps analyze/fingerprint/testdata/tshark-ja3.sh
set -euo pipefail
dir=${INTUNECAP_SHARED_PCAPS:?set INTUNECAP_SHARED_PCAPS to the shared captures folder}
out="$(dirname "$0")/tshark-ja3.tsv"
printf 'file\tframe\ttype\tfull\thash\n' > "$out"
for f in $(cd "$dir" && ls *.pcap *.pcapng | sort); do
  tshark -n -r "$dir/$f" -Y '(tls.handshake.type == 1 || tls.handshake.type == 2) && tcp && !icmp && !icmpv6' \
    -T fields -E separator=/t -E occurrence=a -E aggregator=';' \
    -e frame.number -e tls.handshake.type -e tls.handshake.ja3_full -e tls.handshake.ja3 \
    -e tls.handshake.ja3s_full -e tls.handshake.ja3s 2>/dev/null |
  awk -F'\t' -v f="$f" 'BEGIN{OFS="\t"} {
    n = split($2, types, ";"); split($3, cf, ";"); split($4, ch, ";"); split($5, sf, ";"); split($6, sh, ";"); c = 0; s = 0
    for (i = 1; i <= n; i++) {
      if (types[i] == 1) { c++; print f, $1, "client", cf[c], ch[c] }
      if (types[i] == 2) { s++; print f, $1, "server", sf[s], sh[s] }
    } }' >> "$out"
done
tshark --version 2>/dev/null | head -1 | sed 's/^/# /' >> "$out"
