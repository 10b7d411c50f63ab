// Package metrics exposes what "intunecap live" sees as Prometheus metrics, so a gateway that runs it as a
// service can graph blocked Intune connections and alert on them next to its other exporters
// (deploy/prometheus holds the alert rules, deploy/grafana the dashboard, docs/live.md the table of metrics).
//
// Every metric lives in its own registry (no global state): two Metrics never share a counter, and tests can
// scrape one without the others. Labels carry only bounded values: verdicts, the requirement table's patterns
// and row keys, and name sources; never names or addresses read from packets.
package metrics

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/intunecap/intunecap/result"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/intunecap/intunecap/rules"
)

// Options say what a live run's metrics describe.
type Options struct {
	// Table is the requirement table the run checks. Each row that can match gets its verdict series at zero
	// and its status "not-seen" from the start, so that increase() sees the first blocked connection (a
	// counter born at 1 has no increase) and a row never seen is visible. Nil: series appear as records come.
	Table *rules.Table
	// Version is the build's version, published in intunecap_build_info.
	Version string
	// Start is when the capture began. The last-packet and last-requirement-record gauges start there, so a
	// capture that never sees a packet looks stalled only once the alert's wait has passed since the start.
	Start time.Time
}

// Metrics is one live run's collectors. Packet, Record and the setters are called from one goroutine (the
// one that owns the analysis) while the registry is scraped from others.
type Metrics struct {
	reg    *prometheus.Registry
	conns  *prometheus.CounterVec
	dns    *prometheus.CounterVec
	names  *prometheus.CounterVec
	status *prometheus.GaugeVec

	// Per packet: plain atomics read by the registry's CounterFunc and GaugeFunc at scrape time, so the hot
	// path is three atomic operations and no label lookup.
	packets, bytes       atomic.Uint64
	lastPacket           atomic.Int64 // capture time of the latest packet, Unix nanoseconds
	lastRequirement      atomic.Int64 // capture time when the latest record that matched a row came
	kernelDrops, ifDrops atomic.Uint64
	tableSize            atomic.Int64
	tableOnce            sync.Once

	// --write: set by the goroutine that writes, read at scrape time; registered with the first call.
	writeOK                     atomic.Bool
	writeDropped, writeFailures atomic.Uint64
	writeOnce                   sync.Once

	// Per record, touched only by the analysis goroutine: the counters already looked up, and each row's
	// status. Both are bounded by the table's rows times the verdicts.
	counters map[seriesKey]prometheus.Counter
	rows     map[string]*rowStatus
}

// seriesKey identifies one verdict counter series.
type seriesKey struct {
	dns     bool
	verdict rules.Verdict
	rule    string
	ruleKey string
}

// New returns collectors registered in a fresh registry, with Go runtime and process metrics beside them.
func New(opts Options) *Metrics {
	rowLabels := []string{"verdict", "rule", "rule_key"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		conns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intunecap_connections_total",
			Help: "TCP connections and UDP flows by verdict and requirement row (rule: its pattern, rule_key: table:row; both empty when no row matched).",
		}, rowLabels),
		dns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intunecap_dns_exchanges_total",
			Help: "DNS queries with their answer (or timeout) by verdict and requirement row.",
		}, rowLabels),
		names: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intunecap_names_total",
			Help: "Records that carried a name, by where the name was read (name_source: sni, http-host, connect, dns, query).",
		}, []string{"source"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "intunecap_requirement_status",
			Help: "1 for the status each requirement row has now, 0 for the others: failing (its latest verdict stopped it), ok (its latest was allowed), not-seen.",
		}, []string{"rule", "rule_key", "status"}),
		counters: make(map[seriesKey]prometheus.Counter),
		rows:     make(map[string]*rowStatus),
	}
	start := opts.Start.UnixNano()
	if opts.Start.IsZero() {
		start = 0
	}
	m.lastPacket.Store(start)
	m.lastRequirement.Store(start)
	m.reg.MustRegister(m.conns, m.dns, m.names, m.status, buildInfo(opts.Version))
	m.reg.MustRegister(m.funcCollectors()...)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.Table != nil {
		m.initTable(opts.Table)
	}
	return m
}

// buildInfo is the constant 1 with the version labels, the usual way to join a build to other series.
func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "intunecap_build_info",
		Help:        "Always 1; the labels say which intunecap build and Go version serve these metrics.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}

// funcCollectors read the per-packet atomics at scrape time.
func (m *Metrics) funcCollectors() []prometheus.Collector {
	load := func(v *atomic.Uint64) func() float64 { return func() float64 { return float64(v.Load()) } }
	stamp := func(v *atomic.Int64) func() float64 { return func() float64 { return unixSeconds(v.Load()) } }
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intunecap_packets_total", Help: "Packets captured and analyzed.",
		}, load(&m.packets)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intunecap_bytes_total", Help: "Wire bytes of the packets captured.",
		}, load(&m.bytes)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intunecap_kernel_dropped_packets_total",
			Help: "Packets the kernel dropped because the capture buffer was full (libpcap ps_drop): verdicts may be missing.",
		}, load(&m.kernelDrops)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intunecap_interface_dropped_packets_total",
			Help: "Packets the interface or its driver dropped (libpcap ps_ifdrop).",
		}, load(&m.ifDrops)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "intunecap_last_packet_timestamp_seconds",
			Help: "Capture time (Unix seconds) of the latest packet; the capture's start until the first one.",
		}, stamp(&m.lastPacket)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "intunecap_last_requirement_record_timestamp_seconds",
			Help: "Capture time (Unix seconds, of the latest packet) when the latest record that matched a requirement row came; the capture's start until the first one.",
		}, stamp(&m.lastRequirement)),
	}
}

// unixSeconds converts Unix nanoseconds to seconds without losing the fraction to a float64's 53 bits.
func unixSeconds(ns int64) float64 {
	return float64(ns/1e9) + float64(ns%1e9)/1e9
}

// initTable creates every matchable row's series at zero, for every verdict, and its status as not-seen.
func (m *Metrics) initTable(t *rules.Table) {
	for _, row := range t.Rules {
		pattern := rowPattern(row)
		if pattern == "" {
			continue // a note row (no domain, no prefix) never matches
		}
		for _, v := range rules.Verdicts() {
			m.counter(false, v, pattern, row.Key())
			m.counter(true, v, pattern, row.Key())
		}
		m.row(pattern, row.Key())
	}
}

// rowPattern is the rule label a record matching row carries (analyze fills Record.Rule the same way).
func rowPattern(row *rules.Rule) string {
	if row.Pattern == "" && row.Prefix.IsValid() {
		return row.Prefix.String()
	}
	return row.Pattern
}

// Packet counts one captured packet of wireLen bytes taken at capture time ts.
func (m *Metrics) Packet(ts time.Time, wireLen int) {
	m.packets.Add(1)
	m.bytes.Add(uint64(max(wireLen, 0)))
	m.lastPacket.Store(ts.UnixNano())
}

// Record counts a finished connection or exchange and updates its requirement row's status.
func (m *Metrics) Record(r *result.Record) {
	m.counter(r.Type == "dns", r.Verdict, r.Rule, r.RuleKey).Inc()
	if r.NameSource != "" {
		m.names.WithLabelValues(string(r.NameSource)).Inc()
	}
	if r.RuleKey == "" {
		return
	}
	m.lastRequirement.Store(m.lastPacket.Load())
	m.row(r.Rule, r.RuleKey).update(r.Verdict)
}

// counter returns the verdict counter of one series, looking its labels up only the first time.
func (m *Metrics) counter(dns bool, v rules.Verdict, rule, ruleKey string) prometheus.Counter {
	k := seriesKey{dns: dns, verdict: v, rule: rule, ruleKey: ruleKey}
	c, ok := m.counters[k]
	if !ok {
		vec := m.conns
		if dns {
			vec = m.dns
		}
		c = vec.WithLabelValues(string(v), rule, ruleKey)
		m.counters[k] = c
	}
	return c
}

// row returns a requirement row's status, created as not-seen.
func (m *Metrics) row(rule, ruleKey string) *rowStatus {
	s, ok := m.rows[ruleKey]
	if !ok {
		s = &rowStatus{now: unset}
		for i, name := range statusNames {
			s.gauges[i] = m.status.WithLabelValues(rule, ruleKey, name)
		}
		s.set(notSeen)
		m.rows[ruleKey] = s
	}
	return s
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

// SetWriteOK publishes whether --write is saving packets (true) or failed and waiting to retry (false). The
// write metrics appear with the first call, so a run without --write does not show them.
func (m *Metrics) SetWriteOK(ok bool) {
	m.writeOK.Store(ok)
	m.registerWrite()
}

// WriteFailed counts one write failure (a full disk, a quota, an I/O error): writing stopped until a retry.
func (m *Metrics) WriteFailed() {
	m.writeFailures.Add(1)
	m.registerWrite()
}

// WriteDropped counts n packets that were analyzed but not written, because writing had failed.
func (m *Metrics) WriteDropped(n uint64) { m.writeDropped.Add(n) }

func (m *Metrics) registerWrite() {
	m.writeOnce.Do(func() {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "intunecap_write_ok",
				Help: "1 while --write saves packets, 0 after a write failed (full disk, quota, I/O error) until a new file can be written.",
			}, func() float64 {
				if m.writeOK.Load() {
					return 1
				}
				return 0
			}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "intunecap_write_failures_total",
				Help: "Times --write failed (full disk, quota, I/O error) and stopped writing until a retry succeeded; analysis went on.",
			}, func() float64 { return float64(m.writeFailures.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "intunecap_write_dropped_packets_total",
				Help: "Packets analyzed but not written by --write because writing had failed.",
			}, func() float64 { return float64(m.writeDropped.Load()) }),
		)
	})
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Gatherer gives tests and other exporters direct access to the registry.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }
