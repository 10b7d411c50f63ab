#!/usr/bin/env bash
# Regenerates tshark-ja4.tsv: JA4 and JA4_r of every TLS-over-TCP ClientHello of the shared public captures,
# computed by the awk below from tshark's dissection (cipher suites, extension types, signature algorithms,
# supported_versions, ALPN), a reference written apart from the Go package for TestSharedCapturesJA4. tshark
# 4.0 has no JA4 field of its own. Needs tshark and coreutils.
#   INTUNECAP_SHARED_PCAPS=/work/shared/pcaps analyze/fingerprint/testdata/tshark-ja4.sh
set -euo pipefail
dir=${INTUNECAP_SHARED_PCAPS:?set INTUNECAP_SHARED_PCAPS to the shared captures folder}
out="$(dirname "$0")/tshark-ja4.tsv"
printf 'file\tframe\tja4_r\tja4\n' > "$out"
for f in $(cd "$dir" && ls *.pcap *.pcapng | sort); do
  # One row per frame; a frame holding two ClientHellos (none in these captures) would mix their fields.
  tshark -n -r "$dir/$f" -Y 'tls.handshake.type == 1 && tcp && !icmp && !icmpv6' \
    -T fields -E separator=/t -E occurrence=a -E aggregator=',' \
    -e frame.number -e tls.handshake.version -e tls.handshake.ciphersuite -e tls.handshake.extension.type \
    -e tls.handshake.sig_hash_alg_len -e tls.handshake.sig_hash_alg -e tls.handshake.extensions.supported_version \
    -e tls.handshake.extensions_alpn_str 2>/dev/null |
  awk -F'\t' -v f="$f" '
    function grease(h) { return substr(h,1,1) == substr(h,3,1) && substr(h,2,1) == "a" && substr(h,4,1) == "a" }
    function hex(v) { sub(/^0x/, "", v); return tolower(v) }
    function sortcsv(s,   n, a, i, j, t, r) {   # insertion sort of 4-digit hex strings
      n = split(s, a, ","); for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
      r = ""; for (i = 1; i <= n; i++) if (a[i] != "") r = r (r == "" ? "" : ",") a[i]; return r }
    function hash12(s,   cmd, h) { if (s == "") return "000000000000"; cmd = "printf %s \"" s "\" | sha256sum"; cmd | getline h; close(cmd); return substr(h, 1, 12) }
    function code(v) { return v == "0304" ? "13" : v == "0303" ? "12" : v == "0302" ? "11" : v == "0301" ? "10" : v == "0300" ? "s3" : "00" }
    {
      # cipher suites
      nc = split($3, cs, ","); ciphers = ""; ncount = 0
      for (i = 1; i <= nc; i++) { h = hex(cs[i]); if (h != "" && !grease(h)) { ciphers = ciphers (ciphers == "" ? "" : ",") h; ncount++ } }
      # extensions; the sig_hash_alg lists come in the order of the extensions that carry one (13, 34, 50)
      ne = split($4, es, ","); split($5, lens, ","); na = split($6, algs, ","); li = 0; ai = 0
      exts = ""; ecount = 0; sni = "i"; sigs = ""
      for (i = 1; i <= ne; i++) {
        h = sprintf("%04x", es[i]); if (grease(h)) continue
        ecount++
        if (h == "0000") sni = "d"
        if (h != "0000" && h != "0010") exts = exts (exts == "" ? "" : ",") h
        if (es[i] == 13 || es[i] == 34 || es[i] == 50) {
          li++; k = lens[li] / 2
          for (j = 0; j < k; j++) { ai++; if (es[i] == 13 && !grease(hex(algs[ai]))) sigs = sigs (sigs == "" ? "" : ",") hex(algs[ai]) }
        }
      }
      if (ai != na) { print "sig_hash_alg walk out of step in " f " frame " $1 > "/dev/stderr"; exit 1 }
      # version: highest non-GREASE supported_version, else the legacy version
      nv = split($7, vs, ","); best = ""
      for (i = 1; i <= nv; i++) { h = hex(vs[i]); if (!grease(h) && h > best) best = h }
      if (best == "") best = hex($2)
      # ALPN: first value, alphanumeric ends kept (the captures hold no other kind)
      split($8, al, ","); a = al[1]; alpn = a == "" ? "00" : substr(a, 1, 1) substr(a, length(a), 1)
      if (ncount > 99) ncount = 99; if (ecount > 99) ecount = 99
      pa = sprintf("t%s%s%02d%02d%s", code(best), sni, ncount, ecount, alpn)
      se = sortcsv(exts); c = se; if (sigs != "" && se != "") c = c "_" sigs
      print f "\t" $1 "\t" pa "_" sortcsv(ciphers) "_" (se == "" && sigs != "" ? "_" sigs : c) "\t" pa "_" hash12(sortcsv(ciphers)) "_" (se == "" ? "000000000000" : hash12(c))
    }' >> "$out"
done
