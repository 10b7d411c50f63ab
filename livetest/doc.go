// Package livetest runs "intunecap live" against real traffic: the network lab (tools/netlab) puts a managed
// device and a gateway in two network namespaces joined by a veth pair, with real servers, a proxy and
// iptables rules that drop and reset, and the tests check the verdicts arrive while the capture runs.
//
// It needs root and network namespaces: in CI (CI=true) a missing one is a failure, elsewhere a skip.
package livetest
