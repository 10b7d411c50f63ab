#!/usr/bin/env bash
# Installs what the test suite needs on Debian/Ubuntu, only what is missing. Idempotent.
#   libpcap-dev  cgo build of live capture (gopacket/pcap)
#   tcpdump, tshark (dumpcap, editcap), dnsutils (dig), tinyproxy, iptables, iproute2, curl,
#   openssl, procps, dante-server (danted)  the network-namespace lab that records and replays real traffic
#                    (tools/netlab)
#   hyperfine, tcpreplay   benchmarks
#   groff-base   the manual page test (groff -man -ww)
#   prometheus (prometheus, promtool), prometheus-alertmanager (alertmanager, amtool),
#   systemd (systemd-analyze)   deploy/: alert rules, routing, dashboard, unit
#   squid, nodejs, chromium  the allow-list and HTML report tests (squid -k parse, a PAC file run in node,
#                            the report loaded in headless Chromium)
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

have_pkg libpcap-dev || need+=(libpcap-dev)
have_cmd tcpdump     || need+=(tcpdump)
have_cmd tshark      || need+=(tshark)
have_cmd dig         || need+=(dnsutils)
have_cmd tinyproxy   || need+=(tinyproxy)
have_cmd danted      || need+=(dante-server)
have_cmd iptables    || need+=(iptables)
have_cmd ip          || need+=(iproute2)
have_cmd tc          || need+=(iproute2)
have_cmd curl        || need+=(curl)
have_cmd openssl     || need+=(openssl)
have_cmd sysctl      || need+=(procps)
have_cmd hyperfine   || need+=(hyperfine)
have_cmd tcpreplay   || need+=(tcpreplay)
have_cmd groff       || need+=(groff-base)
have_cmd promtool    || need+=(prometheus)
have_cmd amtool      || need+=(prometheus-alertmanager)
have_cmd systemd-analyze || need+=(systemd)
have_cmd squid       || need+=(squid)
have_cmd node        || need+=(nodejs)
have_cmd chromium    || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${need[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  have_cmd sudo || { echo "deps: need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections || true
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
