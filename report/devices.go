package report

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Caps of the device view. A capture at a gateway can hold a whole campus: the aggregator keeps a fixed amount
// per client and a fixed number of clients, and counts what lies beyond.
const (
	maxDevicesTracked = 65536 // distinct client addresses aggregated; records of further clients are counted only
	maxDevicesListed  = 100   // devices written to a report, the most failing first
	maxDeviceRules    = 20    // failed requirement keys kept per device
	maxDeviceNames    = 5     // failing names kept per device
)

// deviceAgg tallies records per client address: the view a network team needs to tell "one broken laptop"
// from "every device behind this proxy". Records arrive in an order fixed by the capture, so which clients are
// tracked when the cap is reached does not depend on the number of workers.
type deviceAgg struct {
	failOn    []rules.Verdict
	byAddr    map[string]*deviceAcc
	untracked int // records of clients beyond maxDevicesTracked
}

// deviceAcc is one client's running tally.
type deviceAcc struct {
	addr        string
	records     int
	failing     int
	verdicts    map[rules.Verdict]int
	first, last time.Time
	failed      []string // rule keys, at most maxDeviceRules, in first-failure order
	names       []string // failing names, at most maxDeviceNames
}

func newDeviceAgg(failOn []rules.Verdict) *deviceAgg {
	return &deviceAgg{failOn: failOn, byAddr: map[string]*deviceAcc{}}
}

// add counts r against its client.
func (a *deviceAgg) add(r *result.Record) {
	d := a.byAddr[r.Client]
	if d == nil {
		if len(a.byAddr) >= maxDevicesTracked {
			a.untracked++
			return
		}
		d = &deviceAcc{addr: r.Client, verdicts: map[rules.Verdict]int{}}
		a.byAddr[r.Client] = d
	}
	d.records++
	d.verdicts[r.Verdict]++
	if t, err := time.Parse(time.RFC3339Nano, r.Start); err == nil {
		if d.first.IsZero() || t.Before(d.first) {
			d.first = t
		}
		if t.After(d.last) {
			d.last = t
		}
	}
	if !slices.Contains(a.failOn, r.Verdict) {
		return
	}
	d.failing++
	if r.RuleKey != "" && len(d.failed) < maxDeviceRules && !slices.Contains(d.failed, r.RuleKey) {
		d.failed = append(d.failed, r.RuleKey)
	}
	if r.Name != "" && len(d.names) < maxDeviceNames && !slices.Contains(d.names, r.Name) {
		d.names = append(d.names, r.Name)
	}
}

// total is the number of distinct clients tracked.
func (a *deviceAgg) total() int { return len(a.byAddr) }

// top returns up to n devices: the most failing records first, then the most records, then by address.
func (a *deviceAgg) top(n int) []result.Device {
	all := slices.SortedFunc(maps.Values(a.byAddr), func(x, y *deviceAcc) int {
		if c := cmp.Compare(y.failing, x.failing); c != 0 {
			return c
		}
		if c := cmp.Compare(y.records, x.records); c != 0 {
			return c
		}
		return cmp.Compare(x.addr, y.addr)
	})
	out := make([]result.Device, 0, min(n, len(all)))
	for _, d := range all[:min(n, len(all))] {
		out = append(out, d.device())
	}
	return out
}

// device converts the tally to its report form.
func (d *deviceAcc) device() result.Device {
	v := make(map[string]int, len(d.verdicts))
	for k, n := range d.verdicts {
		v[string(k)] = n
	}
	dev := result.Device{Address: d.addr, Records: d.records, Failing: d.failing, Verdicts: v,
		Failed: slices.Sorted(slices.Values(d.failed)), Names: slices.Clone(d.names)}
	if !d.first.IsZero() {
		dev.First = d.first.UTC().Format(time.RFC3339Nano)
		dev.Last = d.last.UTC().Format(time.RFC3339Nano)
	}
	return dev
}

// fill sets the device fields of a copy of s, unless an earlier stage filled them.
func (a *deviceAgg) fill(s *result.Summary) *result.Summary {
	if s == nil || s.Devices != nil {
		return s
	}
	c := *s
	c.Devices = a.top(maxDevicesListed)
	c.DevicesTotal = a.total()
	c.DevicesUntracked = a.untracked
	return &c
}

// deviceFiller is a Writer that passes everything on to the writer it wraps and fills the summary's devices
// from the records on the way, so writers that show devices (json, text, html) need no tally of their own.
type deviceFiller struct {
	Writer
	agg *deviceAgg
}

// withDevices wraps w so the summary it receives carries the devices.
func withDevices(w Writer, failOn []rules.Verdict) Writer {
	return &deviceFiller{Writer: w, agg: newDeviceAgg(failOn)}
}

// Record counts r, then passes it on.
func (f *deviceFiller) Record(r *result.Record) error {
	err := f.Writer.Record(r)
	if err == nil {
		f.agg.add(r)
	}
	return err
}

// Summary passes on a copy of s with the devices filled.
func (f *deviceFiller) Summary(s *result.Summary) error {
	return f.Writer.Summary(f.agg.fill(s))
}
