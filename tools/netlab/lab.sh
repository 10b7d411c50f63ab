#!/usr/bin/env bash
# lab.sh: the intunecap network lab: a managed device and a gateway in two network namespaces.
#
#   dev namespace (icap-ID-dev)                net namespace (icap-ID-net)
#   veth0 198.18.0.2/24, 2001:2::2/64  <--->   veth0 198.18.0.1/24, 2001:2::1/64
#   default routes via 198.18.0.1/2001:2::1   lo: 198.18.1.0/24 and 2001:2:0:1::/64 routed locally
#                                              labd: DNS :53, TLS :443 :8443, HTTP :80 (zone.txt)
#                                              tinyproxy 198.18.0.1:3128 (filter: 403), :3129 (BasicAuth: 407)
#
# Usage:
#   eval "$(tools/netlab/lab.sh up)"     # prints "export LAB_ID=..." for the commands below
#   tools/netlab/lab.sh exec dev curl -sk https://enrollment.manage.microsoft.com/
#   tools/netlab/lab.sh exec net tcpdump -i veth0 -w x.pcap
#   tools/netlab/lab.sh down
#
# Environment: LAB_ID (default: this shell's PID; names are icap-$LAB_ID-dev/-net), LAB_VLAN (802.1Q id: put
# the addresses on veth0.ID so that frames on veth0 are tagged), LAB_PROXY=0 (no tinyproxy), LABD (a built
# labd binary; built into the state directory when unset), LAB_STATE (state directory, default
# /tmp/icap-$LAB_ID). The script can also be sourced (LAB_SOURCE_ONLY=1) for its lab_* functions.
# Nothing leaves the namespaces: 198.18.0.0/15 and 2001:2::/48 are benchmarking ranges (RFC 2544, 5180).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)

lab_die() {
	echo "lab.sh: $*" >&2
	exit 1
}

# lab_require fails loudly unless we are root and every named tool is on PATH.
lab_require() {
	[ "$(id -u)" = 0 ] || lab_die "must run as root (network namespaces, iptables, tc); try sudo"
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || lab_die "missing tool: $t (Debian: apt-get install -y iproute2 iptables procps tcpdump tshark dnsutils tinyproxy dante-server curl)"
	done
}

lab_names() {
	LAB_ID=${LAB_ID:-$$}
	LAB_DEV=icap-$LAB_ID-dev
	LAB_NET=icap-$LAB_ID-net
	LAB_STATE=${LAB_STATE:-${TMPDIR:-/tmp}/icap-$LAB_ID}
	LAB_IF=veth0${LAB_VLAN:+.$LAB_VLAN}
}

lab_exec() {
	local side=$1
	shift
	lab_names
	case $side in
	dev) ip netns exec "$LAB_DEV" "$@" ;;
	net) ip netns exec "$LAB_NET" "$@" ;;
	*) lab_die "exec: want dev or net, got '$side'" ;;
	esac
}

# lab_ns_setup creates one namespace with its own resolv.conf and hosts (ip netns exec bind-mounts
# /etc/netns/NAME/*), so that tools inside resolve through labd and never through the host's resolver.
lab_ns_setup() {
	local ns=$1
	ip netns add "$ns"
	mkdir -p "/etc/netns/$ns"
	echo "nameserver 198.18.0.1" >"/etc/netns/$ns/resolv.conf"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$ns/hosts"
	# No router solicitations or autoconfiguration: keep the captures to what the scenario does.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0
	ip -n "$ns" link set lo up
}

# lab_link joins the namespaces with a veth pair. TSO/GSO are capped at one segment so that the capture
# shows MSS-sized segments as on a real wire (a post-quantum ClientHello really spans two segments).
lab_link() {
	ip link add veth0 netns "$LAB_DEV" type veth peer name veth0 netns "$LAB_NET"
	local ns
	for ns in "$LAB_DEV" "$LAB_NET"; do
		ip -n "$ns" link set veth0 gso_max_segs 1 gso_max_size 1500
		ip -n "$ns" link set veth0 up
		if [ -n "${LAB_VLAN:-}" ]; then
			ip -n "$ns" link add link veth0 name "$LAB_IF" type vlan id "$LAB_VLAN"
			ip -n "$ns" link set "$LAB_IF" up
		fi
	done
	ip -n "$LAB_DEV" addr add 198.18.0.2/24 dev "$LAB_IF"
	ip -n "$LAB_DEV" addr add 2001:2::2/64 dev "$LAB_IF" nodad
	ip -n "$LAB_DEV" route add default via 198.18.0.1
	ip -n "$LAB_DEV" -6 route add default via 2001:2::1
	ip -n "$LAB_NET" addr add 198.18.0.1/24 dev "$LAB_IF"
	ip -n "$LAB_NET" addr add 2001:2::1/64 dev "$LAB_IF" nodad
	ip -n "$LAB_NET" route add local 198.18.1.0/24 dev lo
	ip -n "$LAB_NET" -6 route add local 2001:2:0:1::/64 dev lo
}

# lab_start runs a command in the background inside ns, detached, logging to the state directory and
# recording its PID so that lab_down stops exactly what the lab started.
lab_start() {
	local name=$1 ns=$2
	shift 2
	setsid ip netns exec "$ns" "$@" </dev/null >"$LAB_STATE/$name.log" 2>&1 &
	echo $! >"$LAB_STATE/$name.pid"
}

lab_proxy_conf() {
	local port=$1 extra=$2
	cat <<EOF
Port $port
Listen 198.18.0.1
Timeout 30
MaxClients 50
LogLevel Info
PidFile "$LAB_STATE/tinyproxy-$port.tpid"
DisableViaHeader Yes
ConnectPort 443
ConnectPort 8443
$extra
EOF
}

lab_proxies() {
	printf '%s\n' '^wustat\.microsoft\.com$' '^blob\.core\.windows\.net$' >"$LAB_STATE/filter"
	lab_proxy_conf 3128 "Filter \"$LAB_STATE/filter\"
FilterType ere
FilterDefaultDeny No" >"$LAB_STATE/tinyproxy-filter.conf"
	lab_proxy_conf 3129 "BasicAuth intune lab" >"$LAB_STATE/tinyproxy-auth.conf"
	lab_start tinyproxy-filter "$LAB_NET" tinyproxy -d -c "$LAB_STATE/tinyproxy-filter.conf"
	lab_start tinyproxy-auth "$LAB_NET" tinyproxy -d -c "$LAB_STATE/tinyproxy-auth.conf"
}

# lab_wait_port waits (up to 5 s) until something listens on TCP port in the net namespace.
lab_wait_port() {
	local i
	for i in $(seq 50); do
		[ -n "$(ip netns exec "$LAB_NET" ss -Hltn "sport = :$1")" ] && return 0
		sleep 0.1
	done
	lab_die "nothing listens on port $1 in $LAB_NET; see $LAB_STATE/*.log"
}

lab_labd() {
	if [ -z "${LABD:-}" ]; then
		LABD=$LAB_STATE/labd
		(cd "$LAB_REPO" && CGO_ENABLED=0 go build -o "$LABD" ./tools/netlab/labd) || lab_die "build labd failed"
	fi
	lab_start labd "$LAB_NET" "$LABD" serve --zone "$LAB_DIR/zone.txt" \
		--dns 198.18.0.1:53 --dns '[2001:2::1]:53' --tls :443 --tls :8443 --http :80 \
		--rst-after-response 198.18.1.21 --cert-names intunecap-lab.invalid
}

# lab_vlan_supported says whether this kernel can make 802.1Q sub-interfaces (CONFIG_VLAN_8021Q).
lab_vlan_supported() {
	local ns=icap-$$-vlanprobe rc=0
	ip netns add "$ns"
	ip -n "$ns" link add p0 type veth peer name p1 &&
		ip -n "$ns" link add link p0 name p0.100 type vlan id 100 2>/dev/null || rc=1
	ip netns del "$ns"
	return $rc
}

lab_up() {
	lab_require ip ss sysctl setsid tinyproxy
	lab_names
	ip netns list | grep -q "^$LAB_DEV\b" && lab_die "lab $LAB_ID is already up"
	mkdir -p "$LAB_STATE"
	lab_ns_setup "$LAB_DEV"
	lab_ns_setup "$LAB_NET"
	lab_link
	lab_labd
	[ "${LAB_PROXY:-1}" = 0 ] || lab_proxies
	lab_wait_port 443
	lab_wait_port 53
	if [ "${LAB_PROXY:-1}" != 0 ]; then
		lab_wait_port 3128
		lab_wait_port 3129
	fi
	echo "export LAB_ID=$LAB_ID${LAB_VLAN:+ LAB_VLAN=$LAB_VLAN}"
}

# lab_down stops the lab's processes (by the PIDs it recorded, then any left inside its namespaces) and
# removes the namespaces and their files. It is safe to call twice and on a half-built lab.
lab_down() {
	lab_names
	local f ns pid
	for f in "$LAB_STATE"/*.pid; do
		if [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
	done
	for ns in "$LAB_DEV" "$LAB_NET"; do
		if ip netns list | grep -q "^$ns\b"; then
			for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
			sleep 0.2
			for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
			ip netns del "$ns" || true
		fi
		rm -rf "/etc/netns/$ns"
	done
	case $LAB_STATE in /tmp/icap-* | "${TMPDIR:-/tmp}"/icap-*) rm -rf "$LAB_STATE" ;; esac
	return 0
}

CAP_PID=

# lab_capture_start TOOL IFACE SNAPLEN FILE starts a capture (tcpdump or dumpcap; SNAPLEN 0 = whole packets)
# in the net namespace and waits until it really listens. lab_capture_stop ends it, with its last packets.
lab_capture_start() {
	local tool=$1 ifc=$2 snap=$3 file=$4 log=$LAB_STATE/capture.log
	: >"$log"
	local cmd=(tcpdump -i "$ifc" -U -Z root -w "$file")
	[ "$snap" = 0 ] || cmd+=(-s "$snap")
	[ "$tool" = dumpcap ] && cmd=(dumpcap -i "$ifc" -w "$file")
	# Not through the net function: $! must be the capture's own PID (ip netns exec execs it), so that
	# SIGINT reaches it and it writes its last packets.
	ip netns exec "$LAB_NET" "${cmd[@]}" >"$log" 2>&1 &
	CAP_PID=$!
	local i
	for i in $(seq 50); do
		grep -qE 'listening on|Capturing on' "$log" && sleep 0.2 && return 0
		kill -0 "$CAP_PID" 2>/dev/null || lab_die "capture failed: $(cat "$log")"
		sleep 0.1
	done
	lab_die "capture did not start: $(cat "$log")"
}

lab_capture_stop() {
	[ -n "$CAP_PID" ] || return 0
	kill -INT "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	CAP_PID=
}

lab_main() {
	set -euo pipefail
	case ${1:-} in
	up)
		# A half-built lab is torn down, not left behind; a finished one stays until "down".
		trap 'lab_down >/dev/null 2>&1' EXIT
		lab_up
		trap - EXIT
		;;
	down) lab_require ip && lab_down ;;
	exec)
		[ $# -ge 3 ] || lab_die "usage: lab.sh exec dev|net COMMAND [ARG...]"
		shift
		lab_exec "$@"
		;;
	*)
		echo "usage: lab.sh up|down|exec dev|net COMMAND..." >&2
		exit 2
		;;
	esac
}

if [ "${LAB_SOURCE_ONLY:-0}" != 1 ]; then
	lab_main "$@"
fi
