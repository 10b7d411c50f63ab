// Command mkretired writes the trust windows of the public roots Mozilla has removed from its store:
// analyze/certchain/retired-bundles.pem (the roots of older pinned bundles that are neither in the current
// bundle nor in retired.pem) and the headers of retired.pem's certificates. Each root gets the dates of the
// first and last pinned bundle that held it and Trusted-Until, the date of the first pinned bundle after
// that which no longer did (or the date its CA was distrusted for cause, policy.go): certchain judges a
// capture against a retired root only when it was taken before that date.
//
// Run it from the module root with the Go module proxy reachable:
//
//	go run ./analyze/certchain/internal/mkretired
//
// The bundles are the pinned module versions of sources.go, fetched with `go mod download` (the module
// checksum database checks them) and held to the sha256 written there; the same sources give the same
// bytes. It adds no dependency to the product: the downloads go to a scratch module in a temporary folder.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

func main() {
	dir := flag.String("dir", "analyze/certchain", "the certchain package folder, holding retired.pem")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "mkretired:", err)
		os.Exit(1)
	}
}

type digest = [32]byte

// A snapshot is the root set of one bundle.
type snapshot struct {
	src   *source // nil for debian2023
	date  string
	roots map[digest]*x509.Certificate
	after map[digest]string // fallback's distrustAfter per root
	// unparsed holds the roots crypto/x509 does not parse, with its error: no chain verifies to them.
	unparsed map[digest]string
}

func run(dir string) error {
	retiredPath := filepath.Join(dir, "retired.pem")
	old, err := os.ReadFile(retiredPath)
	if err != nil {
		return err
	}
	retired, err := readNamed(old)
	if err != nil {
		return fmt.Errorf("%s: %w", retiredPath, err)
	}
	scratch, err := os.MkdirTemp("", "mkretired")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := os.WriteFile(filepath.Join(scratch, "go.mod"), []byte("module mkretired\n\ngo 1.21\n"), 0o644); err != nil {
		return err
	}
	var snaps []*snapshot
	for i := range certifi {
		s, err := load(scratch, &certifi[i])
		if err != nil {
			return err
		}
		snaps = append(snaps, s)
	}
	deb := &snapshot{date: debian2023, roots: map[digest]*x509.Certificate{}}
	for _, n := range retired {
		deb.roots[sha256.Sum256(n.cert.Raw)] = n.cert
	}
	snaps = append(snaps, deb)
	for i := range fallback {
		s, err := load(scratch, &fallback[i])
		if err != nil {
			return err
		}
		snaps = append(snaps, s)
	}
	current := snaps[len(snaps)-1]
	if err := samePinned(current); err != nil {
		return err
	}
	retiredOut, err := writeRetired(retired, snaps)
	if err != nil {
		return err
	}
	bundlesOut, err := writeBundles(retired, snaps)
	if err != nil {
		return err
	}
	if err := os.WriteFile(retiredPath, retiredOut, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "retired-bundles.pem"), bundlesOut, 0o644)
}

// load downloads one pinned bundle and reads its roots.
func load(scratch string, src *source) (*snapshot, error) {
	cmd := exec.Command("go", "mod", "download", "-json", src.module+"@"+src.version)
	cmd.Dir = scratch
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Error != "" || err != nil {
		return nil, fmt.Errorf("download %s@%s: %v %s", src.module, src.version, err, info.Error)
	}
	files := map[string][]byte{}
	for name, want := range src.files {
		data, err := os.ReadFile(filepath.Join(info.Dir, name))
		if err != nil {
			return nil, err
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != want {
			return nil, fmt.Errorf("%s@%s %s: sha256 %x, pinned %s", src.module, src.version, name, got, want)
		}
		files[name] = data
	}
	s := &snapshot{src: src, date: src.date, roots: map[digest]*x509.Certificate{}, after: map[digest]string{}, unparsed: map[digest]string{}}
	var certs []*x509.Certificate
	switch {
	case files["bundle/bundle.der"] != nil:
		if certs, err = x509.ParseCertificates(files["bundle/bundle.der"]); err != nil {
			return nil, fmt.Errorf("%s@%s bundle.der: %w", src.module, src.version, err)
		}
		s.after = distrustAfter(files["bundle/bundle.go"])
	case files["bundle.go"] != nil:
		certs, err = pemCerts(files["bundle.go"], s.unparsed)
		s.after = distrustAfter(files["bundle.go"])
	default:
		certs, err = pemCerts(files["certifi.go"], s.unparsed)
	}
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", src.module, src.version, err)
	}
	for _, c := range certs {
		s.roots[sha256.Sum256(c.Raw)] = c
	}
	return s, nil
}

// pemCerts reads every PEM certificate in a file (Go source holding them in a string). One that
// crypto/x509 refuses (EC-ACC's negative serial number) is noted in unparsed: no chain verifies to it.
func pemCerts(data []byte, unparsed map[digest]string) ([]*x509.Certificate, error) {
	// pem.Decode finds a block only at the start of a line; fallback's 2025 bundle.go opens one after "pem: `".
	data = bytes.ReplaceAll(data, []byte("-----BEGIN"), []byte("\n-----BEGIN"))
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			unparsed[sha256.Sum256(b.Bytes)] = err.Error()
			continue
		}
		out = append(out, c)
	}
}

var (
	hashField  = regexp.MustCompile(`sha256Hash:\s*"([0-9a-f]{64})"`)
	afterField = regexp.MustCompile(`distrustAfter:\s*"([^"]+)"`)
)

// distrustAfter reads fallback's distrustAfter fields: each follows the sha256Hash of its entry.
func distrustAfter(src []byte) map[digest]string {
	out := map[digest]string{}
	var cur digest
	for _, line := range strings.Split(string(src), "\n") {
		if m := hashField.FindStringSubmatch(line); m != nil {
			hex.Decode(cur[:], []byte(m[1]))
		}
		if m := afterField.FindStringSubmatch(line); m != nil {
			out[cur] = m[1]
		}
	}
	return out
}

// samePinned checks that the last fallback source is the bundle the product embeds.
func samePinned(current *snapshot) error {
	n := 0
	for r := range bundle.Roots() {
		if current.roots[sha256.Sum256(r.Certificate)] == nil {
			return fmt.Errorf("the product's pinned bundle has a root %s@%s lacks: add the pinned version to sources.go", fallbackModule, current.src.version)
		}
		n++
	}
	if n != len(current.roots) {
		return fmt.Errorf("the product's pinned bundle has %d roots, %s@%s %d: add the pinned version to sources.go", n, fallbackModule, current.src.version, len(current.roots))
	}
	return nil
}

// A named certificate is one of retired.pem's, with the name of the comment line before it.
type named struct {
	name string
	cert *x509.Certificate
}

// readNamed reads retired.pem's certificates (headers ignored) and the "# name" line before each.
func readNamed(data []byte) ([]named, error) {
	var out []named
	for {
		i := bytes.Index(data, []byte("-----BEGIN"))
		if i < 0 {
			return out, nil
		}
		lines := strings.Split(strings.TrimSpace(string(data[:i])), "\n")
		name := strings.TrimPrefix(lines[len(lines)-1], "# ")
		b, rest := pem.Decode(data[i:])
		if b == nil {
			return nil, fmt.Errorf("pem block after %q does not parse", name)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, named{name, c})
		data = rest
	}
}

// window is what a root's headers say.
type window struct {
	first, last, until, after, why, source string
}

// windowOf finds the bundles that held a root and the end of its trust.
func windowOf(h digest, c *x509.Certificate, snaps []*snapshot) window {
	var w window
	last := -1
	for i, s := range snaps {
		if s.roots[h] == nil {
			continue
		}
		if w.first == "" {
			w.first = s.date
		}
		w.last, last = s.date, i
		if a := s.after[h]; a != "" {
			w.after = a
		}
		if s.src != nil {
			w.source = s.src.module + "@" + s.src.version
		}
	}
	w.until = snaps[last+1].date // the current bundle, last, lacks every retired root
	if d := distrustOf(c); d != nil {
		w.why = d.why
		if d.until != "" && d.until < w.until {
			w.until = d.until
		}
		if d.after != "" && (w.after == "" || d.after < w.after) {
			w.after = d.after
		}
	}
	return w
}

func (w window) headers(withSource bool) map[string]string {
	h := map[string]string{"Bundles": w.first + " to " + w.last, "Trusted-Until": w.until}
	if w.after != "" {
		h["Distrust-After"] = w.after
	}
	if w.why != "" {
		h["Distrusted"] = w.why
	}
	if withSource && w.source != "" {
		h["Source"] = w.source
	}
	return h
}

func block(name string, c *x509.Certificate, headers map[string]string) []byte {
	return append([]byte("# "+name+"\n"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: headers, Bytes: c.Raw})...)
}

// writeRetired writes retired.pem again: its header, then each certificate with its window.
func writeRetired(retired []named, snaps []*snapshot) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(retiredHeader)
	for _, n := range retired {
		if d := distrustOf(n.cert); d != nil && d.omit {
			return nil, fmt.Errorf("retired.pem holds %s, which policy.go leaves out", n.name)
		}
		b.Write(block(n.name, n.cert, windowOf(sha256.Sum256(n.cert.Raw), n.cert, snaps).headers(false)))
	}
	return b.Bytes(), nil
}

// writeBundles writes retired-bundles.pem: the roots of the pinned bundles that are neither current nor in
// retired.pem, by name, and the ones left out for cause in its header.
func writeBundles(retired []named, snaps []*snapshot) ([]byte, error) {
	current := snaps[len(snaps)-1]
	skip := map[digest]bool{}
	for h := range current.roots {
		skip[h] = true
	}
	for _, n := range retired {
		skip[sha256.Sum256(n.cert.Raw)] = true
	}
	type entry struct {
		name string
		h    digest
		c    *x509.Certificate
	}
	var keep []entry
	seen := map[digest]bool{}
	for _, s := range snaps {
		for h, c := range s.roots {
			if !skip[h] && !seen[h] {
				seen[h] = true
				keep = append(keep, entry{nameOf(c), h, c})
			}
		}
	}
	sort.Slice(keep, func(i, j int) bool {
		if keep[i].name != keep[j].name {
			return keep[i].name < keep[j].name
		}
		return bytes.Compare(keep[i].h[:], keep[j].h[:]) < 0
	})
	var body, omitted bytes.Buffer
	n := 0
	for _, e := range keep {
		w := windowOf(e.h, e.c, snaps)
		if d := distrustOf(e.c); d != nil && d.omit {
			fmt.Fprintf(&omitted, "#   %s (sha256 %x, bundles %s to %s): %s\n", e.name, e.h, w.first, w.last, d.why)
			continue
		}
		body.Write(block(e.name, e.c, w.headers(true)))
		n++
	}
	var b bytes.Buffer
	b.WriteString(bundlesHeader)
	for _, s := range snaps {
		if s.src == nil {
			fmt.Fprintf(&b, "#   %s  Debian 12 ca-certificates 20230311: retired.pem\n", s.date)
			continue
		}
		names := make([]string, 0, len(s.src.files))
		for f := range s.src.files {
			names = append(names, f)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "#   %s  %s@%s (%d roots)\n", s.date, s.src.module, s.src.version, len(s.roots))
		for _, f := range names {
			fmt.Fprintf(&b, "#       %s sha256 %s\n", f, s.src.files[f])
		}
	}
	bad := map[string]bool{}
	for _, s := range snaps {
		for h, err := range s.unparsed {
			if !skip[h] {
				bad[fmt.Sprintf("#   sha256 %x: crypto/x509 does not parse it (%s), so no chain verifies to it\n", h, err)] = true
			}
		}
	}
	badLines := make([]string, 0, len(bad))
	for l := range bad {
		badLines = append(badLines, l)
	}
	sort.Strings(badLines)
	fmt.Fprintf(&b, "#\n# %d roots below. Left out: the roots of CAs distrusted for cause (policy.go) and those crypto/x509 refuses.\n", n)
	b.Write(omitted.Bytes())
	b.WriteString(strings.Join(badLines, ""))
	b.WriteString("\n")
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// nameOf names a root by its common name, else its organizational unit or organization. A common name
// that only repeats the organization ("GlobalSign") gives way to the unit ("GlobalSign Root CA - R2").
func nameOf(c *x509.Certificate) string {
	s := c.Subject
	switch {
	case s.CommonName != "" && len(s.OrganizationalUnit) > 0 && len(s.Organization) > 0 && s.CommonName == s.Organization[0]:
		return s.OrganizationalUnit[0]
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.Subject.OrganizationalUnit) > 0:
		return c.Subject.OrganizationalUnit[0]
	case len(c.Subject.Organization) > 0:
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}
