package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestTrustFlag checks --trust on every command that analyzes: a file that is not PEM certificates is a
// one-line usage error (exit 2) naming the flag; without --trust the inspected capture fails as intercepted.
func TestTrustFlag(t *testing.T) {
	capture := filepath.Join(pcapsDir, "tls-inspect.pcap")
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	expect := filepath.Join(pcapsDir, "tls-inspect.pcap.expect.yaml")
	for _, cmd := range [][]string{{"analyze", "-q"}, {"check", "--expect", expect}, {"baseline"}} {
		for _, file := range []string{bad, missing} {
			args := append(append([]string{}, cmd...), "--trust", file, capture)
			code, _, errOut := runTool(args...)
			if code != 2 || !strings.Contains(errOut, "--trust: ") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("%v: exit %d, stderr %q; want 2 and one line about --trust", args, code, errOut)
			}
		}
	}
	code, out, _ := runTool("analyze", "-q", "--format", "jsonl", capture)
	if code != 1 || strings.Count(out, `"verdict":"intercepted"`) != 2 || !strings.Contains(out, `"cert_issuer":"Contoso SSL Inspection CA"`) {
		t.Errorf("analyze: exit %d, want 1 with 2 intercepted records:\n%s", code, out)
	}
}

// TestTrustInspectionCA runs the lab's inspected capture with its inspection CA in a --trust file (the CA
// is read back from the server's Certificate message in the capture). Both records say the chain verified
// to that root from the trust file; the first connection is then allowed, but the second stays intercepted:
// its client refused the chain (fatal unknown_ca), so this device does not trust the CA. The text report
// still lists the CA as inspecting, on a line of its own.
func TestTrustInspectionCA(t *testing.T) {
	capture := filepath.Join(pcapsDir, "tls-inspect.pcap")
	ca := inspectionCA(t, capture)
	trust := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(trust, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca}), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTool("analyze", "-q", "--format", "jsonl", "--trust", trust, capture)
	refused := `"state":"aborted","verdict":"intercepted","reason":"TLS inspection: the certificate was issued by ` +
		`Contoso SSL Inspection CA, under Contoso SSL Inspection CA from the --trust file, but the client refused it ` +
		`(fatal unknown_ca): this device does not trust that CA`
	if code != 1 || strings.Count(out, `"verdict":"intercepted"`) != 1 || !strings.Contains(out, refused) ||
		!strings.Contains(out, `"state":"established","verdict":"allowed"`) ||
		strings.Count(out, `"cert_root":"Contoso SSL Inspection CA","cert_root_store":"trust-file"`) != 2 {
		t.Errorf("analyze --trust: exit %d (%s), want 1: one allowed and one refused record under the trusted root:\n%s", code, errOut, out)
	}
	_, text, _ := runTool("analyze", "--format", "text", "--trust", trust, capture)
	if !strings.Contains(text, "TLS inspection by Contoso SSL Inspection CA, trusted with --trust: 2 connections to 1 requirement") {
		t.Errorf("text report lacks the trusted inspection CA:\n%s", text)
	}
}

// inspectionCA returns the first CA certificate the server sent in capture: the lab's inspection CA (openssl
// s_server -cert_chain sends it after the leaf). It joins the payload from port 443 in capture order (the
// capture is clean) and tries each DER SEQUENCE with a two-byte length.
func inspectionCA(t *testing.T, capture string) []byte {
	t.Helper()
	f, err := os.Open(capture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var stream []byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if tcp, ok := pkt.TransportLayer().(*layers.TCP); ok && tcp.SrcPort == 443 && len(tcp.Payload) > 0 {
			stream = append(stream, tcp.Payload...)
			if len(stream) > 1<<16 {
				break
			}
		}
	}
	var ca []byte
	for i := 0; i+4 < len(stream); i++ {
		if stream[i] != 0x30 || stream[i+1] != 0x82 {
			continue
		}
		n := int(stream[i+2])<<8 | int(stream[i+3])
		if i+4+n > len(stream) {
			continue
		}
		if c, err := x509.ParseCertificate(stream[i : i+4+n]); err == nil && c.IsCA {
			ca = stream[i : i+4+n]
			break
		}
	}
	if ca == nil {
		t.Fatalf("no CA certificate in the server's flight of %s", capture)
	}
	return ca
}
