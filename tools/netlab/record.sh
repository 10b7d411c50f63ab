#!/usr/bin/env bash
# record.sh OUTDIR [SCENARIO...]: record the lab's scenarios, each into its own capture in OUTDIR.
#
# Every scenario gets a fresh lab (lab.sh), a capture on the net side of the veth, the clients of the
# scenario run in the dev namespace, one more second of capture, then the lab is torn down. With no
# SCENARIO, all are recorded. "record.sh -l" lists them. The expected verdicts of each capture are in
# testdata/pcaps/scenarios.tsv, written from what the scenario functions below do.
#
# Adding a scenario: write a function sc_NAME below (use dev, net, dig_, curl_, tlsc, ipt), add NAME to
# SCENARIOS, and if it is not a plain tcpdump pcap, a case in capture_kind. Then record it, check it with
# tshark and add its rows to scenarios.tsv and a line to testdata/pcaps/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SOURCE_ONLY=1 source "$HERE/lab.sh"

SCENARIOS=(
	tls-allowed tls-split-pq tls-out-of-order tcp-unanswered tcp-refused tls-reset-after-hello
	http-allowed http-reset-after-data port-not-allowed unlisted other dns-name-source dns-failures
	dns-tcp proxy-connect proxy-403 proxy-407 proxy-get proxy-both proxy-auth ipv6 vlan sll2 pcapng aborted snaplen demo
	tls-inspect tls-inspect-smallmtu tls-inspect-tls13
	quic-answered quic-dropped quic-fallback dns-icmp-refused tcp-icmp-prohibited socks
)

die() {
	echo "record.sh: $*" >&2
	exit 1
}

# ---- helpers for scenarios -------------------------------------------------------------------------

dev() { lab_exec dev "$@"; }
net() { lab_exec net "$@"; }

# step separates the parts of a scenario in time, so that the capture reads in order.
step() { sleep 0.3; }

# dig_ asks the lab's DNS once (no retries: a silent server must give exactly one unanswered query).
dig_() {
	dev dig +tries=1 +timeout=1 +nocookie "$@" >/dev/null || true
	step
}

# curl_ is curl on the device; failures are what some scenarios are about, so they do not stop the run.
curl_() {
	dev curl -sk --max-time 5 -o /dev/null "$@" || true
	step
}

# tlsc makes one Go crypto/tls handshake from the device.
tlsc() {
	dev "$LABD" tls-client "$@" >/dev/null || true
	step
}

# ipt adds a firewall rule on the gateway.
ipt() { net iptables "$@"; }

# ---- scenarios ---------------------------------------------------------------------------------------

sc_tls-allowed() {
	dig_ @198.18.0.1 A enrollment.manage.microsoft.com
	curl_ --resolve enrollment.manage.microsoft.com:443:198.18.1.10 https://enrollment.manage.microsoft.com/
}

sc_tls-split-pq() {
	tlsc --mlkem --get --connect 198.18.1.13:443 --sni login.microsoftonline.com
}

# The gateway drops hello segments after tcpdump has seen them (netfilter INPUT runs after the capture
# tap), so the capture shows them again as retransmissions. Connection 1 loses its first segment once:
# the capture shows seg1, seg2, the server's SACK, then seg1 again. Connection 2 loses both segments once:
# both come again, the second one first (tail loss probe), so the retransmitted copies are out of order.
# (netem would reorder the originals, but many CI kernels, this one included, lack sch_netem.)
sc_tls-out-of-order() {
	ipt -I INPUT -p tcp --dport 443 -m string --algo bm --string portal.manage.microsoft.com \
		-m statistic --mode nth --every 1000000 --packet 0 -j DROP
	tlsc --mlkem --connect 198.18.1.11:443 --sni portal.manage.microsoft.com
	ipt -I INPUT -p tcp --dport 443 -m string --algo bm --string fe2.update.microsoft.com \
		-m statistic --mode nth --every 1000000 --packet 0 -j DROP
	ipt -I INPUT -p tcp --dport 443 -d 198.18.1.14 -m length --length 100:400 \
		-m statistic --mode nth --every 1000000 --packet 0 -j DROP
	tlsc --mlkem --connect 198.18.1.14:443 --sni fe2.update.microsoft.com
}

sc_tcp-unanswered() {
	ipt -I INPUT -d 198.18.1.22 -p tcp --dport 443 -j DROP
	dig_ @198.18.0.1 A ctldl.windowsupdate.com
	# 2.5 s: the SYN and exactly one retransmission (Linux retransmits after 1 s, then 3 s).
	curl_ --connect-timeout 2.5 --resolve ctldl.windowsupdate.com:443:198.18.1.22 https://ctldl.windowsupdate.com/
}

sc_tcp-refused() {
	ipt -I INPUT -d 198.18.1.23 -p tcp --syn --dport 443 -j REJECT --reject-with tcp-reset
	dig_ @198.18.0.1 A download.windowsupdate.com
	curl_ --resolve download.windowsupdate.com:443:198.18.1.23 https://download.windowsupdate.com/
}

sc_tls-reset-after-hello() {
	ipt -I INPUT -p tcp --dport 443 -m string --algo bm --string blocked.manage.microsoft.com \
		-j REJECT --reject-with tcp-reset
	curl_ --resolve blocked.manage.microsoft.com:443:198.18.1.12 https://blocked.manage.microsoft.com/
}

sc_http-allowed() {
	curl_ --resolve go.microsoft.com:80:198.18.1.20 http://go.microsoft.com/
}

sc_http-reset-after-data() {
	# labd serve --rst-after-response 198.18.1.21: the response, then RST (SetLinger(0)).
	curl_ --resolve c1.microsoft.com:80:198.18.1.21 http://c1.microsoft.com/
}

sc_port-not-allowed() {
	curl_ --resolve enrollment.manage.microsoft.com:8443:198.18.1.10 https://enrollment.manage.microsoft.com:8443/
	curl_ --resolve www.microsoft.com:443:198.18.1.25 https://www.microsoft.com/
}

sc_unlisted() {
	curl_ --resolve graph.windows.net:443:198.18.1.30 https://graph.windows.net/
}

sc_other() {
	curl_ --resolve www.example.org:443:198.18.1.32 https://www.example.org/
}

sc_dns-name-source() {
	dig_ @198.18.0.1 A wustat.microsoft.com
	tlsc --no-sni --connect 198.18.1.17:443
	# c.microsoft.com -> CNAME -> CNAME -> A 198.18.1.18: the name is the question, not a CNAME target.
	dig_ @198.18.0.1 A c.microsoft.com
	tlsc --no-sni --connect 198.18.1.18:443
}

sc_dns-failures() {
	dig_ @198.18.0.1 A nonexistent.manage.microsoft.com
	dig_ @198.18.0.1 A fail.microsoftonline-p.com
	dig_ @198.18.0.1 A refused.update.microsoft.com
	dig_ @198.18.0.1 A silent.download.windowsupdate.com
	dig_ @198.18.0.1 A portal.manage.microsoft.com
	dig_ @198.18.0.1 AAAA portal.manage.microsoft.com
}

sc_dns-tcp() {
	dig_ +tcp @198.18.0.1 A enrollment.manage.microsoft.com
	dig_ +tcp @198.18.0.1 AAAA enrollment.manage.microsoft.com
	dig_ +tcp +keepopen @198.18.0.1 login.microsoftonline.com A fe2.update.microsoft.com A
}

sc_proxy-connect() {
	curl_ -x http://198.18.0.1:3128 https://enrollment.manage.microsoft.com/
}

sc_proxy-403() {
	curl_ -x http://198.18.0.1:3128 https://wustat.microsoft.com/
}

sc_proxy-407() {
	curl_ -x http://198.18.0.1:3129 https://login.microsoftonline-p.com/
}

sc_proxy-get() {
	curl_ -x http://198.18.0.1:3128 http://go.microsoft.com/
}

# proxy-both: one client uses an unauthenticated proxy for plain HTTP and for HTTPS: both proxy requirements ok.
sc_proxy-both() {
	curl_ -x http://198.18.0.1:3128 http://go.microsoft.com/
	curl_ -x http://198.18.0.1:3128 https://enrollment.manage.microsoft.com/
}

# proxy-auth: the proxy asks for Basic authentication (407); the client then authenticates and gets through.
# The proxy still fails the "unauthenticated" requirement: Intune's clients do not authenticate.
sc_proxy-auth() {
	curl_ -x http://198.18.0.1:3129 https://enrollment.manage.microsoft.com/
	curl_ -x http://intune:lab@198.18.0.1:3129 https://enrollment.manage.microsoft.com/
	curl_ -x http://intune:lab@198.18.0.1:3129 http://go.microsoft.com/
}

sc_ipv6() {
	dig_ @2001:2::1 AAAA enrollment.manage.microsoft.com
	tlsc --connect '[2001:2:0:1::10]:443' --sni enrollment.manage.microsoft.com
	curl_ -6 --resolve 'www.example.org:80:[2001:2:0:1::32]' http://www.example.org/
}

sc_vlan() {
	dig_ @198.18.0.1 A enrollment.manage.microsoft.com
	tlsc --connect 198.18.1.10:443 --sni enrollment.manage.microsoft.com
}

sc_sll2() {
	dig_ @198.18.0.1 A login.microsoftonline.com
	tlsc --connect 198.18.1.13:443 --sni login.microsoftonline.com
	curl_ --resolve go.microsoft.com:80:198.18.1.20 http://go.microsoft.com/
}

sc_pcapng() {
	dig_ @198.18.0.1 A wustat.microsoft.com
	tlsc --no-sni --connect 198.18.1.17:443
	curl_ --resolve go.microsoft.com:80:198.18.1.20 http://go.microsoft.com/
	curl_ --resolve graph.windows.net:443:198.18.1.30 https://graph.windows.net/
	ipt -I INPUT -d 198.18.1.23 -p tcp --syn --dport 443 -j REJECT --reject-with tcp-reset
	curl_ --resolve download.windowsupdate.com:443:198.18.1.23 https://download.windowsupdate.com/
}

sc_aborted() {
	tlsc --abort --connect 198.18.1.10:443 --sni enrollment.manage.microsoft.com
}

sc_snaplen() {
	tlsc --connect 198.18.1.10:443 --sni enrollment.manage.microsoft.com
}

# inspect_certs DIR makes what a TLS-inspecting proxy presents: a private "Contoso SSL Inspection CA" (RSA
# 4096) and a leaf it signs for *.manage.microsoft.com (RSA 2048), about 3 KB of chain. They are new on every
# recording, so tests check the issuer's name, never a hash.
inspect_certs() {
	local d=$1
	openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -subj "/O=Contoso/CN=Contoso SSL Inspection CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$d/inspect-ca.key" -out "$d/inspect-ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/O=Contoso/CN=*.manage.microsoft.com" \
		-keyout "$d/leaf.key" -out "$d/leaf.csr" 2>/dev/null
	printf 'subjectAltName=DNS:*.manage.microsoft.com,DNS:manage.microsoft.com\nextendedKeyUsage=serverAuth\n' >"$d/leaf.ext"
	openssl x509 -req -in "$d/leaf.csr" -CA "$d/inspect-ca.pem" -CAkey "$d/inspect-ca.key" -CAcreateserial \
		-days 90 -extfile "$d/leaf.ext" -out "$d/leaf.pem" 2>/dev/null
}

# inspect_server VERSION starts openssl s_server with the inspection chain on 198.18.1.40:443, the way an
# inspecting gateway answers in the name of the real server. labd holds the wildcard :443, so s_server
# listens on 4433 and the gateway's nat table sends 198.18.1.40:443 there (after the capture tap: the
# capture shows port 443).
inspect_server() {
	local d=$LAB_STATE/inspect
	mkdir -p "$d"
	inspect_certs "$d"
	ipt -t nat -I PREROUTING -d 198.18.1.40 -p tcp --dport 443 -j DNAT --to-destination 198.18.1.40:4433
	lab_start inspect "$LAB_NET" openssl s_server -accept 4433 "$1" -cert "$d/leaf.pem" -key "$d/leaf.key" \
		-cert_chain "$d/inspect-ca.pem" -www -no_ticket
	lab_wait_port 4433
}

# sc_tls-inspect: the client that trusts the gateway (curl -k) completes the handshake and a GET; the one
# that does not (curl with the system roots) rejects the chain with a fatal unknown_ca alert.
sc_tls-inspect() {
	inspect_server -tls1_2
	curl_ --resolve inspected.manage.microsoft.com:443:198.18.1.40 https://inspected.manage.microsoft.com/
	dev curl -s --max-time 5 -o /dev/null --resolve inspected.manage.microsoft.com:443:198.18.1.40 \
		https://inspected.manage.microsoft.com/ || true
	step
}

# sc_tls-inspect-smallmtu: as tls-inspect's first connection with a 576-byte MTU on both sides, so the
# Certificate message spans many segments.
sc_tls-inspect-smallmtu() {
	dev ip link set dev veth0 mtu 576
	net ip link set dev veth0 mtu 576
	inspect_server -tls1_2
	curl_ --resolve inspected.manage.microsoft.com:443:198.18.1.40 https://inspected.manage.microsoft.com/
}

# sc_tls-inspect-tls13: the same inspecting server in TLS 1.3: the chain is encrypted, so it is hidden.
sc_tls-inspect-tls13() {
	inspect_server -tls1_3
	curl_ --resolve inspected.manage.microsoft.com:443:198.18.1.40 https://inspected.manage.microsoft.com/
}

# sc_demo is a device enrolling behind a gateway that gets some things wrong: the README's demo.
sc_demo() {
	ipt -I INPUT -d 198.18.1.22 -p tcp --dport 443 -j DROP
	ipt -I INPUT -p tcp --dport 443 -m string --algo bm --string blocked.manage.microsoft.com \
		-j REJECT --reject-with tcp-reset
	dig_ @198.18.0.1 A enrollment.manage.microsoft.com
	curl_ --resolve enrollment.manage.microsoft.com:443:198.18.1.10 https://enrollment.manage.microsoft.com/
	dig_ @198.18.0.1 A portal.manage.microsoft.com
	dig_ @198.18.0.1 AAAA portal.manage.microsoft.com
	tlsc --get --connect 198.18.1.11:443 --sni portal.manage.microsoft.com
	curl_ --resolve login.microsoftonline.com:443:198.18.1.13 https://login.microsoftonline.com/
	dig_ @198.18.0.1 A fe2.update.microsoft.com
	curl_ --resolve fe2.update.microsoft.com:443:198.18.1.14 https://fe2.update.microsoft.com/
	curl_ --resolve go.microsoft.com:80:198.18.1.20 http://go.microsoft.com/
	dig_ @198.18.0.1 A ctldl.windowsupdate.com
	curl_ --connect-timeout 2.5 --resolve ctldl.windowsupdate.com:443:198.18.1.22 https://ctldl.windowsupdate.com/
	curl_ --resolve blocked.manage.microsoft.com:443:198.18.1.12 https://blocked.manage.microsoft.com/
	curl_ -x http://198.18.0.1:3129 https://login.microsoftonline-p.com/
	dig_ @198.18.0.1 A nonexistent.manage.microsoft.com
	dig_ @198.18.0.1 A fail.microsoftonline-p.com
	curl_ --resolve graph.windows.net:443:198.18.1.30 https://graph.windows.net/
	curl_ --resolve blob.core.windows.net:443:198.18.1.15 https://blob.core.windows.net/
	curl_ --resolve ajax.aspnetcdn.com:443:198.18.1.16 https://ajax.aspnetcdn.com/
	curl_ -x http://198.18.0.1:3128 https://enrollment.manage.microsoft.com/
}

# ---- QUIC and ICMP scenarios --------------------------------------------------------------------------

# quiclab_build builds tools/netlab/quiclab (its own Go module: quic-go stays out of the product) once a run.
quiclab_build() {
	[ -n "${QUICLAB:-}" ] && return 0
	QUICLAB=$REC_TMP/quiclab
	(cd "$HERE/quiclab" && CGO_ENABLED=0 go build -o "$QUICLAB" .) || die "build quiclab failed"
}

# quics starts a QUIC server (ALPN h3) on UDP 443 of every gateway address and waits until it listens.
quics() {
	quiclab_build
	lab_start quiclab "$LAB_NET" "$QUICLAB" server --listen :443 --cert-names intunecap-lab.invalid
	local i
	for i in $(seq 50); do
		[ -n "$(ip netns exec "$LAB_NET" ss -Hlun "sport = :443")" ] && return 0
		sleep 0.1
	done
	die "quiclab server does not listen on udp/443; see $LAB_STATE/quiclab.log"
}

# quicc makes one QUIC handshake from the device (quic-go: a post-quantum hello over two Initials).
quicc() {
	quiclab_build
	dev "$QUICLAB" client "$@" >/dev/null || true
	step
}

sc_quic-answered() {
	quics
	dig_ @198.18.0.1 A quic.manage.microsoft.com
	quicc --connect 198.18.1.61:443 --sni quic.manage.microsoft.com
}

# The gateway drops UDP 443 after tcpdump saw it: the capture holds the client's Initials and their
# retransmissions, and nothing from the server.
sc_quic-dropped() {
	quics
	ipt -I INPUT -p udp --dport 443 -j DROP
	dig_ @198.18.0.1 A quicdrop.manage.microsoft.com
	quicc --timeout 2s --connect 198.18.1.62:443 --sni quicdrop.manage.microsoft.com
}

# QUIC is dropped; the client falls back to TLS over TCP 443 for the same name, as browsers do.
sc_quic-fallback() {
	quics
	ipt -I INPUT -p udp --dport 443 -j DROP
	dig_ @198.18.0.1 A fallback.manage.microsoft.com
	quicc --timeout 2s --connect 198.18.1.63:443 --sni fallback.manage.microsoft.com
	tlsc --connect 198.18.1.63:443 --sni fallback.manage.microsoft.com
}

# One DNS query is refused with ICMP port unreachable (the name's labels match the string); another is answered.
sc_dns-icmp-refused() {
	ipt -I INPUT -p udp --dport 53 -m string --algo bm --string icmprefused \
		-j REJECT --reject-with icmp-port-unreachable
	dig_ @198.18.0.1 A enrollment.manage.microsoft.com
	dig_ @198.18.0.1 A icmprefused.manage.microsoft.com
}

# The gateway answers the SYN with ICMP administratively prohibited (type 3 code 13): connect fails at once.
sc_tcp-icmp-prohibited() {
	ipt -I INPUT -d 198.18.1.65 -p tcp --dport 443 -j REJECT --reject-with icmp-admin-prohibited
	dig_ @198.18.0.1 A prohibited.manage.microsoft.com
	curl_ --resolve prohibited.manage.microsoft.com:443:198.18.1.65 https://prohibited.manage.microsoft.com/
}

# ---- SOCKS ---------------------------------------------------------------------------------------------

# socks_server starts dante (danted) on 198.18.0.1:1080 for SOCKS4 and SOCKS5 without authentication (dante
# 1.4 does not do SOCKS4a: it takes 0.0.0.x for an address). Its ruleset refuses CONNECTs to
# wustat.microsoft.com:443 (SOCKS5 reply 2, "connection not allowed by ruleset") and passes the rest. dante
# resolves host-name targets through labd, inside the gateway: those lookups are not on the captured veth.
socks_server() {
	local conf=$LAB_STATE/danted.conf
	cat >"$conf" <<EOF
logoutput: $LAB_STATE/danted-own.log
internal: 198.18.0.1 port = 1080
external: 198.18.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks block { from: 0.0.0.0/0 to: wustat.microsoft.com port = 443 log: error }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 log: error }
EOF
	lab_start danted "$LAB_NET" danted -N 1 -f "$conf" -p "$LAB_STATE/danted.dpid"
	lab_wait_port 1080
}

# sc_socks: curl through the SOCKS proxy: SOCKS5 with a host name (HTTPS, named by the tunnel's SNI; then plain
# HTTP, named by the request's host), SOCKS5 with an address the client resolved (plain HTTP: named by the DNS
# answer the device got before), SOCKS4 with an address (HTTPS: named by the SNI), and a SOCKS5 request the
# ruleset refuses.
sc_socks() {
	socks_server
	curl_ --socks5-hostname 198.18.0.1:1080 https://enrollment.manage.microsoft.com/
	curl_ --socks5-hostname 198.18.0.1:1080 http://go.microsoft.com/
	dig_ @198.18.0.1 A go.microsoft.com
	curl_ --socks5 198.18.0.1:1080 --resolve go.microsoft.com:80:198.18.1.20 http://go.microsoft.com/
	curl_ --socks4 198.18.0.1:1080 --resolve login.microsoftonline.com:443:198.18.1.13 https://login.microsoftonline.com/
	curl_ --socks5-hostname 198.18.0.1:1080 https://wustat.microsoft.com/
}

# ---- capture -------------------------------------------------------------------------------------------

# capture_kind says how a scenario is captured: tool, interface, snaplen, file extension.
capture_kind() {
	case $1 in
	pcapng | demo) echo "dumpcap veth0 0 pcapng" ;;
	sll2) echo "tcpdump any 0 pcap" ;;
	snaplen) echo "tcpdump veth0 96 pcap" ;;
	*) echo "tcpdump veth0 0 pcap" ;;
	esac
}

cleanup() {
	lab_capture_stop
	if [ -n "${LAB_ID:-}" ]; then lab_down; fi
	if [ -n "${REC_TMP:-}" ]; then rm -rf "$REC_TMP"; fi
}

record_one() {
	local name=$1 n=$2 tool ifc snap ext
	declare -F "sc_$name" >/dev/null || die "unknown scenario '$name' (record.sh -l lists them)"
	read -r tool ifc snap ext < <(capture_kind "$name")
	LAB_ID=$$-$n
	LAB_STATE=$REC_TMP/lab-$n
	LAB_VLAN=
	local tag_after=
	if [ "$name" = vlan ]; then
		if lab_vlan_supported; then
			LAB_VLAN=100
		else
			tag_after=100
			echo "record.sh: vlan: this kernel has no 8021q; recording untagged, then labd tag-vlan --id 100" >&2
		fi
	fi
	lab_up >/dev/null
	local file=$OUT/$name.$ext
	rm -f "$file"
	lab_capture_start "$tool" "$ifc" "$snap" "$file"
	"sc_$name"
	sleep 1
	lab_capture_stop
	lab_down
	LAB_ID=
	if [ -n "$tag_after" ]; then
		"$LABD" tag-vlan --id "$tag_after" "$file" "$file.untagged"
		mv "$file.untagged" "$file"
	fi
	echo "record.sh: $name -> $file ($(stat -c %s "$file") bytes)"
}

main() {
	[ $# -ge 1 ] || die "usage: record.sh OUTDIR [SCENARIO...] (record.sh -l lists scenarios)"
	if [ "$1" = -l ]; then
		printf '%s\n' "${SCENARIOS[@]}"
		return 0
	fi
	lab_require ip ss tc iptables tcpdump dumpcap dig curl tinyproxy go openssl danted
	mkdir -p "$1"
	OUT=$(cd "$1" && pwd)
	shift
	local names=("$@")
	[ ${#names[@]} -gt 0 ] || names=("${SCENARIOS[@]}")
	REC_TMP=$(mktemp -d /tmp/icap-rec-XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	LABD=$REC_TMP/labd
	(cd "$LAB_REPO" && CGO_ENABLED=0 go build -o "$LABD" ./tools/netlab/labd) || die "build labd failed"
	local n=0 name
	for name in "${names[@]}"; do
		n=$((n + 1))
		record_one "$name" "$n"
	done
}

main "$@"
