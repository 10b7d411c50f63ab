// Package metrics exposes what "intunecap live" sees as Prometheus metrics, so a gateway that runs it as a
// service can graph blocked Intune connections and alert on them next to its other exporters.
//
// Every metric lives in its own registry (no global state): two Metrics never share a counter, and tests can
// scrape one without the others. Updates are atomic and cheap enough to make per packet.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/intunecap/intunecap/result"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one live run's collectors. Packet, Record and the setters may be called from one goroutine
// while the registry is scraped from others.
type Metrics struct {
	reg     *prometheus.Registry
	conns   *prometheus.CounterVec
	dns     *prometheus.CounterVec
	names   *prometheus.CounterVec
	packets prometheus.Counter
	bytes   prometheus.Counter

	kernelDrops, ifDrops atomic.Uint64
	tableSize            atomic.Int64
	tableOnce            sync.Once
}

// New returns collectors registered in a fresh registry, with Go runtime and process metrics beside them.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		conns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intunecap_connections_total",
			Help: "TCP connections and UDP flows by verdict and by the requirement row's pattern (empty: no row matched).",
		}, []string{"verdict", "rule"}),
		dns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intunecap_dns_exchanges_total",
			Help: "DNS queries with their answer (or timeout) by verdict and requirement pattern.",
		}, []string{"verdict", "rule"}),
		names: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intunecap_names_total",
			Help: "Connections and exchanges that carried a name, by where the name was read (sni, http-host, connect, dns).",
		}, []string{"source"}),
		packets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "intunecap_packets_total", Help: "Packets captured and analyzed.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "intunecap_bytes_total", Help: "Wire bytes of the packets captured.",
		}),
	}
	m.reg.MustRegister(m.conns, m.dns, m.names, m.packets, m.bytes,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intunecap_kernel_dropped_packets_total",
			Help: "Packets the kernel dropped because the capture buffer was full (libpcap ps_drop): verdicts may be missing.",
		}, func() float64 { return float64(m.kernelDrops.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intunecap_interface_dropped_packets_total",
			Help: "Packets the interface or its driver dropped (libpcap ps_ifdrop).",
		}, func() float64 { return float64(m.ifDrops.Load()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Packet counts one captured packet of wireLen bytes.
func (m *Metrics) Packet(wireLen int) {
	m.packets.Inc()
	m.bytes.Add(float64(wireLen))
}

// Record counts a finished connection or exchange.
func (m *Metrics) Record(r *result.Record) {
	vec := m.conns
	if r.Type == "dns" {
		vec = m.dns
	}
	vec.WithLabelValues(string(r.Verdict), r.Rule).Inc()
	if r.NameSource != "" {
		m.names.WithLabelValues(string(r.NameSource)).Inc()
	}
}

// SetDrops publishes libpcap's cumulative drop counters.
func (m *Metrics) SetDrops(kernel, iface uint64) {
	m.kernelDrops.Store(kernel)
	m.ifDrops.Store(iface)
}

// SetFlowTable publishes how many connections the analysis tracks. The gauge appears with the first call, so
// a build whose engine cannot say never shows a misleading zero.
func (m *Metrics) SetFlowTable(n int) {
	m.tableSize.Store(int64(n))
	m.tableOnce.Do(func() {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "intunecap_flow_table_connections",
			Help: "Connections the analysis is tracking now; near its limit the oldest idle ones are evicted.",
		}, func() float64 { return float64(m.tableSize.Load()) }))
	})
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Gatherer gives tests and other exporters direct access to the registry.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }
