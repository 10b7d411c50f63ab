package report

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// TestDevicesFixture checks the aggregator against counts written out by hand.
func TestDevicesFixture(t *testing.T) {
	agg := newDeviceAgg(defaultFailOn())
	recs := []result.Record{
		{Client: "10.0.0.5", Verdict: rules.Allowed, Start: "2024-05-02T09:00:10Z"},
		{Client: "10.0.0.5", Verdict: rules.Blocked, RuleKey: "t:2", Name: "b.example", Start: "2024-05-02T09:00:05.5Z"},
		{Client: "10.0.0.5", Verdict: rules.Blocked, RuleKey: "t:1", Name: "b.example", Start: "2024-05-02T09:00:20Z"},
		{Client: "10.0.0.6", Verdict: rules.Reset, RuleKey: "t:1", Name: "r.example", Start: "bad"},
		{Client: "10.0.0.7", Verdict: rules.Allowed},
		{Client: "10.0.0.7", Verdict: rules.Unlisted},
	}
	for i := range recs {
		agg.add(&recs[i])
	}
	want := []result.Device{
		{Address: "10.0.0.5", Records: 3, Failing: 2, Verdicts: map[string]int{"allowed": 1, "blocked": 2},
			First: "2024-05-02T09:00:05.5Z", Last: "2024-05-02T09:00:20Z", Failed: []string{"t:1", "t:2"},
			Names: []string{"b.example"}},
		{Address: "10.0.0.6", Records: 1, Failing: 1, Verdicts: map[string]int{"reset": 1}, Failed: []string{"t:1"},
			Names: []string{"r.example"}},
		{Address: "10.0.0.7", Records: 2, Verdicts: map[string]int{"allowed": 1, "unlisted": 1}},
	}
	if got := agg.top(10); !reflect.DeepEqual(got, want) {
		t.Errorf("devices\n%+v\nwant\n%+v", got, want)
	}
	if got := agg.top(1); len(got) != 1 || got[0].Address != "10.0.0.5" {
		t.Errorf("top 1 = %+v", got)
	}
	s := agg.fill(&result.Summary{Failing: 3})
	if s.DevicesTotal != 3 || len(s.Devices) != 3 || s.Failing != 3 {
		t.Errorf("filled summary %+v", s)
	}
	if again := agg.fill(s); again != s {
		t.Error("fill replaced devices an earlier stage set")
	}
}

// TestDevicesCap checks memory stays bounded: clients beyond the cap are counted, not tracked.
func TestDevicesCap(t *testing.T) {
	agg := newDeviceAgg(defaultFailOn())
	r := result.Record{Verdict: rules.Blocked, RuleKey: "t:1"}
	for i := range maxDevicesTracked + 10 {
		r.Client = fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255)
		r.Name = fmt.Sprintf("n%d", i)
		agg.add(&r)
	}
	for i := range maxDeviceRules + 5 {
		r.Client, r.RuleKey, r.Name = "10.0.0.0", fmt.Sprintf("t:%d", i), fmt.Sprintf("m%d", i)
		agg.add(&r)
	}
	if agg.total() != maxDevicesTracked || agg.untracked != 10 {
		t.Errorf("%d tracked and %d untracked, want %d and 10", agg.total(), agg.untracked, maxDevicesTracked)
	}
	top := agg.top(maxDevicesListed)
	if len(top) != maxDevicesListed || top[0].Address != "10.0.0.0" || top[0].Failing != maxDeviceRules+6 {
		t.Fatalf("top device %+v", top[0])
	}
	if len(top[0].Failed) != maxDeviceRules || len(top[0].Names) != maxDeviceNames {
		t.Errorf("%d rules and %d names kept, want %d and %d", len(top[0].Failed), len(top[0].Names), maxDeviceRules, maxDeviceNames)
	}
}

func TestTextDevicesGolden(t *testing.T) {
	agg := newDeviceAgg(defaultFailOn())
	recs := append(fixtureRecords(), hostileRecords()...)
	for i := range recs {
		agg.add(&recs[i])
	}
	var b bytes.Buffer
	renderDevices(&b, agg.fill(fixtureSummary()), false)
	checkGolden(t, "text-devices.golden", b.Bytes())
	checkTerminalSafe(t, b.Bytes())
	b.Reset()
	renderDevices(&b, &result.Summary{}, false)
	if b.Len() != 0 {
		t.Errorf("devices section without devices: %q", b.String())
	}
}
