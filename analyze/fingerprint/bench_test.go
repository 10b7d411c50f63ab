package fingerprint_test

import (
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
)

// The fingerprints run once per connection; each allocates its result string and nothing else for a hello
// of real size (TestAllocs holds them to it).
func BenchmarkFingerprints(b *testing.B) {
	server := fingerprint.ServerFacts{LegacyVersion: 0x0303, SelectedVersion: 0x0304, Cipher: 0x1301, Extensions: []uint16{43, 51}, ALPN: "h2"}
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"JA4", func() { fingerprint.JA4(foxio, fingerprint.TCP) }},
		{"JA4Raw", func() { fingerprint.JA4Raw(foxio, fingerprint.TCP) }},
		{"JA4S", func() { fingerprint.JA4S(server, fingerprint.TCP) }},
		{"JA3", func() { fingerprint.JA3(foxio) }},
		{"JA3S", func() { fingerprint.JA3S(server) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.run()
			}
		})
	}
}

func TestAllocs(t *testing.T) {
	server := fingerprint.ServerFacts{LegacyVersion: 0x0303, Cipher: 0xc030, Extensions: []uint16{0xff01, 0, 11, 35, 16, 23}, ALPN: "http/1.1"}
	for name, run := range map[string]func(){
		"JA4":  func() { fingerprint.JA4(foxio, fingerprint.TCP) },
		"JA4S": func() { fingerprint.JA4S(server, fingerprint.TCP) },
		"JA3":  func() { fingerprint.JA3(foxio) },
		"JA3S": func() { fingerprint.JA3S(server) },
	} {
		if n := testing.AllocsPerRun(100, run); n > 1 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}
