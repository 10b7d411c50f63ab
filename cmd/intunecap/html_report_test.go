package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
	"github.com/intunecap/intunecap/tools/synth/gen"
)

var screenshot = flag.Bool("screenshot", false, "save a screenshot of the demo's HTML report to docs/img/report-html.png")

// maxReportBytes is the size an HTML report must stay under, whatever the capture.
const maxReportBytes = 5 << 20

// needProgram returns the path of a program the test runs, or skips saying why; under CI=true a missing
// program fails, so CI cannot pass by skipping.
func needProgram(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: install the Debian package %s (scripts/deps.sh does)", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// analyzeTo runs analyze with args and returns what it wrote to path.
func analyzeTo(t *testing.T, path string, args ...string) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(append([]string{"analyze", "-q"}, args...), nil, &out, &errOut); code > 1 {
		t.Fatalf("analyze %v: exit %d: %s", args, code, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAnalyzeExtraOutputs checks --report and --allowlist write their files beside the main report, and that
// the html report written by --report is the one --format html writes.
func TestAnalyzeExtraOutputs(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	dir := t.TempDir()
	page, squid := filepath.Join(dir, "r.html"), filepath.Join(dir, "a.squid")
	var out, errOut bytes.Buffer
	code := run([]string{"analyze", "-q", "--format", "html", "--report", "html=" + page, "--allowlist", "squid=" + squid,
		"--allowlist", "pac=-", "--pac-proxy", "proxy.example:3128", demo}, nil, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the demo fails): %s", code, errOut.String())
	}
	written, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	stdoutPage, pac, ok := strings.Cut(out.String(), "</html>\n")
	if !ok || stdoutPage+"</html>\n" != string(written) {
		t.Error("--report html differs from --format html")
	}
	if !strings.Contains(pac, `return "PROXY proxy.example:3128";`) || !strings.Contains(pac, `dnsDomainIs(host, ".windowsupdate.com")`) {
		t.Errorf("pac on standard output:\n%s", pac)
	}
	acl, err := os.ReadFile(squid)
	if err != nil || !strings.Contains(string(acl), "acl intunecap_domains dstdomain .manage.microsoft.com\n") {
		t.Errorf("squid allow-list (%v):\n%s", err, acl)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestAnalyzeExtraOutputErrors(t *testing.T) {
	good := filepath.Join(pcapsDir, "tls-allowed.pcap")
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--report", "xml=" + filepath.Join(dir, "x")}, `--report "xml=` + filepath.Join(dir, "x") + `": unknown format "xml" (want text, jsonl, json, html)`},
		{[]string{"--report", "html"}, `--report "html": expected FORMAT=FILE`},
		{[]string{"--allowlist", "fqdn=/nonexistent/x"}, `--allowlist "fqdn=/nonexistent/x": no directory /nonexistent to write into`},
		{[]string{"--allowlist", "pac=" + filepath.Join(dir, "p")}, "--allowlist pac: the pac format needs --pac-proxy HOST:PORT"},
		{[]string{"--allowlist", "pac=" + filepath.Join(dir, "p"), "--pac-proxy", "proxy"}, `--allowlist pac: --pac-proxy "proxy"`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(append(append([]string{"analyze", "-q"}, tt.args...), good), nil, &out, &errOut); code != 2 ||
			!strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, code, errOut.String(), tt.want)
		}
	}
	// A run that fails after the reports were opened leaves no report behind.
	garbage := write(t, dir, "garbage.pcap", []byte("not a capture at all, not even close"))
	var out, errOut bytes.Buffer
	run([]string{"analyze", "-q", "--report", "html=" + filepath.Join(dir, "r.html"), garbage}, nil, &out, &errOut)
	if left, _ := filepath.Glob(filepath.Join(dir, "*.html")); len(left) > 0 {
		t.Errorf("a failed run left %v", left)
	}
}

func TestCheckHTMLReport(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "check.html")
	var out, errOut bytes.Buffer
	code := run([]string{"check", "-q", "--expect", filepath.Join(pcapsDir, "demo.pcapng.expect.yaml"),
		"--report", "html=" + page, "--report", "junit=" + filepath.Join(dir, "j.xml"), filepath.Join(pcapsDir, "demo.pcapng")},
		nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("check: exit %d: %s", code, errOut.String())
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<strong class=\"verdict-word\">FAIL</strong>")) || !bytes.Contains(b, []byte("ctldl.windowsupdate.com")) {
		t.Error("check's html report does not show the demo's failures")
	}
}

// TestHTMLFiltersRunInTshark pastes every display filter of the demo's report into tshark: each must parse
// and select at least one frame of the capture.
func TestHTMLFiltersRunInTshark(t *testing.T) {
	tshark := needProgram(t, "tshark", "tshark")
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	path := filepath.Join(t.TempDir(), "demo.html")
	page := analyzeTo(t, path, "--report", "html="+path, demo)
	var filters []string
	// Every requirement's filters and each requirement's first record filter: tshark takes a second or two to
	// start, so not every record's.
	for _, m := range regexp.MustCompile(`(?:<p class="filters">.*?|<tbody>\n<tr>.*?)<code class="filter">([^<]+)</code>(?: <code class="filter">([^<]+)</code>)?`).FindAllSubmatch(page, -1) {
		for _, g := range m[1:] {
			if f := strings.ReplaceAll(string(g), "&amp;", "&"); f != "" && !slices.Contains(filters, f) {
				filters = append(filters, f)
			}
		}
	}
	if len(filters) < 5 || !slices.ContainsFunc(filters, func(f string) bool { return strings.HasPrefix(f, "frame.number in {") }) {
		t.Fatalf("too few filters in the demo report: %q", filters)
	}
	for _, f := range filters {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, tshark, "-n", "-r", demo, "-Y", f).CombinedOutput()
		cancel()
		lines := 0
		for _, l := range strings.Split(string(out), "\n") {
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "Running as user") {
				lines++
			}
		}
		if err != nil || lines == 0 {
			t.Errorf("filter %q: %v, %d frames:\n%s", f, err, lines, out)
		}
	}
}

// synthCapture writes a capture of at least 7,000 connections: a mixed synthetic gateway capture and a SYN
// flood, read together as one capture.
func synthCapture(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	for i, cfg := range []gen.Config{{Size: 10_000_000, Seed: 7, Format: "pcap", IPv6Share: 0.2}, {Seed: 8, SYNFlood: 7000}} {
		path := filepath.Join(dir, fmt.Sprintf("synth-%d.pcap", i))
		if _, err := gen.WriteFile(path, cfg); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// TestHTMLReportSizeBounded checks a report of 7,000+ connections stays under the size cap and says how many
// connections it left out.
func TestHTMLReportSizeBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "synth.html")
	page := analyzeTo(t, path, append([]string{"--report", "html=" + path}, synthCapture(t, dir)...)...)
	if len(page) > maxReportBytes {
		t.Errorf("report of %d bytes, over the %d cap", len(page), maxReportBytes)
	}
	if !regexp.MustCompile(`; 500 others, \d+ more left out`).Match(page) {
		t.Error("the report does not say how many connections it left out")
	}
	t.Logf("report of %d bytes", len(page))
}

// browser starts headless Chromium with the flags the report must work under, offline.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromium := needProgram(t, "chromium", "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// pageEvents is what a loaded page did: requests, console errors, exceptions, dialogs.
type pageEvents struct {
	mu       sync.Mutex
	requests []string
	errors   []string
	dialogs  []string
}

// watch records the page's events from now on; a dialog is dismissed so the page does not hang.
func watch(t *testing.T, ctx context.Context) *pageEvents {
	t.Helper()
	ev := &pageEvents{}
	err := chromedp.Listen(ctx, func(e any) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		switch e := e.(type) {
		case *network.EventRequestWillBeSent:
			ev.requests = append(ev.requests, e.Request.URL)
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeWarning {
				ev.errors = append(ev.errors, "console."+string(e.Type))
			}
		case *cdpruntime.EventExceptionThrown:
			ev.errors = append(ev.errors, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				ev.errors = append(ev.errors, "log: "+e.Entry.Text)
			}
		case *page.EventJavascriptDialogOpening:
			ev.dialogs = append(ev.dialogs, e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// load opens a report from file:// and checks it loaded nothing else and logged no error.
func load(t *testing.T, ctx context.Context, path string) *pageEvents {
	t.Helper()
	ev := watch(t, ctx)
	url := "file://" + path
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil { // let late events arrive
		t.Fatal(err)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.requests) == 0 {
		t.Fatal("no request seen, not even the document: the event listener does not work")
	}
	for _, r := range ev.requests {
		if r != url {
			t.Errorf("the page requested %s", r)
		}
	}
	if len(ev.errors) > 0 {
		t.Errorf("console errors: %q", ev.errors)
	}
	return ev
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// click scrolls an element into view, lets the sections around it render (they are laid out only when
// near the viewport), then clicks it.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Sleep(100*time.Millisecond),
		chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

const visibleRows = `Array.from(document.querySelectorAll('#conntable tbody tr')).filter(r => !r.hidden).length`

func TestHTMLReportInChromium(t *testing.T) {
	ctx := browser(t)
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	dir := t.TempDir()
	path, jsonPath := filepath.Join(dir, "demo.html"), filepath.Join(dir, "demo.json")
	analyzeTo(t, path, "--report", "html="+path, "--report", "json="+jsonPath, demo)
	load(t, ctx, path)

	fix := eval[string](t, ctx, `document.querySelector('#fix').innerText`)
	for _, name := range []string{"blocked.manage.microsoft.com", "login.microsoftonline-p.com", "ctldl.windowsupdate.com",
		"*.windowsupdate.com", "SNI filtering", "proxy asked for authentication (407)"} {
		if !strings.Contains(fix, name) {
			t.Errorf("%q is not visible in What to change", name)
		}
	}

	// Sort: the status column sorts as text, a second click reverses it.
	first := `document.querySelector('#reqtable tbody tr').cells[0].textContent`
	click(t, ctx, "#reqtable th:nth-child(1)")
	if got := eval[string](t, ctx, first); got != "failing" {
		t.Errorf("after one click on status, the first row is %q, want failing", got)
	}
	click(t, ctx, "#reqtable th:nth-child(1)")
	if got := eval[string](t, ctx, first); got != "ok" {
		t.Errorf("after two clicks on status, the first row is %q, want ok", got)
	}
	// Numbers sort as numbers: the frame column, descending after two clicks.
	frames := `Array.from(document.querySelectorAll('#conntable tbody tr')).map(r => Number(r.cells[0].dataset.v))`
	for range 2 {
		click(t, ctx, "#conntable th:nth-child(1)")
	}
	got := eval[[]int](t, ctx, frames)
	if len(got) < 10 || !slices.IsSortedFunc(got, func(a, b int) int { return b - a }) || got[0] < got[len(got)-1] {
		t.Errorf("frames after sorting descending: %v", got)
	}

	// Filter: typing in the box leaves the rows that mention the text.
	const query = "ctldl.windowsupdate"
	want := recordsMentioning(t, jsonPath, query)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[data-filter="conntable"]`), query)); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, visibleRows); n != want || want == 0 {
		t.Errorf("%d rows visible after filtering on %q, want %d", n, query, want)
	}
	if c := eval[string](t, ctx, `document.querySelector('[data-count-for="conntable"]').textContent`); !strings.HasPrefix(c, fmt.Sprint(want, " of ")) {
		t.Errorf("row count says %q", c)
	}
	if *screenshot {
		saveScreenshot(t, ctx, path)
	}
}

// recordsMentioning counts the records of a JSON report whose name, reason or warning contain s: the rows a
// filter on s must leave.
func recordsMentioning(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []result.Record }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range doc.Records {
		if strings.Contains(r.Name, s) || strings.Contains(r.Reason, s) || strings.Contains(r.Warning, s) {
			n++
		}
	}
	return n
}

// saveScreenshot reloads the report fresh and saves the top of it for docs/report.md.
func saveScreenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "report-html.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHTMLHostileNamesInChromium loads a report whose names try to run script and checks no dialog opens
// and the names show as text.
func TestHTMLHostileNamesInChromium(t *testing.T) {
	ctx := browser(t)
	names := []string{"<script>alert(1)</script>.manage.microsoft.com", `"><img src=x onerror=alert(1)>.manage.microsoft.com`,
		`'-alert(1)-'.manage.microsoft.com`, "</style><script>alert(1)</script>"}
	path := filepath.Join(t.TempDir(), "hostile.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := report.New("html", f, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := &result.Summary{Failing: len(names), Capture: result.CaptureFacts{Files: names}}
	for i, name := range names {
		r := result.Record{Type: "flow", Proto: "tcp", Client: "198.18.0.2", ClientPort: uint16(40000 + i), Server: "198.18.1.12",
			ServerPort: 443, Port: 443, Name: name, NameSource: "sni", Rule: name, RuleKey: fmt.Sprintf("t:%d", i+1), Purpose: name,
			Transport: "tls", State: "reset", Verdict: rules.Reset, Stage: "after-client-hello", Reason: name,
			FirstFrame: uint64(i + 1), LastFrame: uint64(i + 2), Start: "2026-01-05T09:00:00Z"}
		if err := w.Record(&r); err != nil {
			t.Fatal(err)
		}
		sum.Rules = append(sum.Rules, result.RuleSummary{Key: r.RuleKey, Pattern: name, Purpose: name, Ports: "443", Status: "failing"})
		sum.Unlisted = append(sum.Unlisted, result.NameCount{Name: name, Count: 1})
	}
	if err := errors.Join(w.Summary(sum), w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	ev := load(t, ctx, path)
	if err := chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	ev.mu.Lock()
	if len(ev.dialogs) > 0 {
		t.Errorf("script from a name ran: dialogs %q", ev.dialogs)
	}
	ev.mu.Unlock()
	text := eval[string](t, ctx, `document.body.innerText`)
	for _, name := range names {
		if !strings.Contains(text, name) {
			t.Errorf("%q does not show literally", name)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('img, script:not(:last-of-type)').length`); n != 0 {
		t.Errorf("%d img or extra script elements in the page", n)
	}
}

// TestHTMLLargeReportInChromium loads the 7,000-connection report and logs how long the browser took.
func TestHTMLLargeReportInChromium(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "synth.html")
	analyzeTo(t, path, append([]string{"--report", "html=" + path}, synthCapture(t, dir)...)...)
	load(t, ctx, path)
	ms := eval[float64](t, ctx, `(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()`)
	t.Logf("the 7,000-connection report loaded in %.0f ms", ms)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[data-filter="conntable"]`), "blocked")); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, visibleRows); n == 0 {
		t.Error("filtering the large report on blocked leaves no row")
	}
}
