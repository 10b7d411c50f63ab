// Command intunecap tells, from a packet capture, whether a network lets managed devices reach Microsoft
// Intune: it reads DNS, TLS ClientHello SNI, HTTP Host and CONNECT, follows every TCP connection to its fate,
// and checks each name and port against Microsoft's requirements table.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// command is one of intunecap's commands, as the usage lists it and run dispatches it.
type command struct {
	name, args, summary string
	run                 func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands lists every command in the order the usage shows them. Help, completion scripts and the manual page
// are generated from this list and each command's own -h text, so they cannot drift apart.
func commands() []command {
	return []command{
		{"analyze", "FILE|DIR...", "analyze captures (pcap, pcapng, gzipped; - is standard input)", runAnalyze},
		{"live", "-i IFACE", "watch an interface; report problems as they happen",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runLive(a, o, e) }},
		{"interfaces", "", "list the interfaces live can capture on",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runInterfaces(a, o, e) }},
		{"check", "FILE...", "check captures against expectations or a baseline (CI)",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runCheck(a, o, e) }},
		{"baseline", "FILE...", "record what a known-good capture shows, for check",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runBaseline(a, o, e) }},
		{"probe", "[--rules R]", "probe every requirement's endpoints, capture, and judge",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runProbe(a, o, e) }},
		{"annotate", "-o OUT FILE...", "write the capture back with verdicts as packet comments",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runAnnotate(a, o, e) }},
		{"rules", "COMMAND", "list, check, match and diff requirement tables",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runRules(a, o, e) }},
		{"completion", "SHELL", "print a completion script: bash, zsh, fish, powershell",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runCompletion(a, o, e) }},
		{"man", "", "print the manual page (roff), as make man installs it",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runMan(a, o, e) }},
		{"version", "", "print the version, VCS revision and Go version",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runVersion(a, o, e) }},
		{"help", "[COMMAND]", "print this help, or a command's",
			func(a []string, _ io.Reader, o, e io.Writer) int { return runHelp(a, o, e) }},
	}
}

// usage is the top-level help, at most 80 columns wide.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: intunecap <command> [flags] [args]\n\n")
	b.WriteString("Tell from a packet capture whether managed devices can reach Microsoft Intune.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Exit status: 0 pass, 1 fail, 2 usage or input error, 3 inconclusive (the
capture cannot tell: no Intune traffic in it, or too much of it unreadable).

Run "intunecap help COMMAND" or "intunecap COMMAND -h" for a command's flags.
`)
	return b.String()
}

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// tuneGC sets the garbage collector for a process whose heap is mostly long-lived tables, unless the GOGC
// and GOMEMLIMIT variables say otherwise:
//   - a soft memory limit (defaultMemoryLimit): the engine's tables are capped (docs/report.md, Limits) at
//     about 300 MiB when full, and the limit keeps the process near that instead of doubling it;
//   - GOGC 400 (defaultGCPercent): almost nothing is allocated per packet, so collecting each time the heap
//     doubles costs more than the memory it saves;
//   - no collection before the process holds firstCollection. The runtime's first goal would otherwise be
//     16 MiB (4 MiB × GOGC/100), which a run over a 100 MB capture just reaches, and that one cycle costs a
//     fifth of such a run: it scans gopacket's 5 MiB of pointerful tables (layers.EthernetTypeMetadata and
//     others), faulting in their pages. Later is not better: the engine's tables only grow until the first
//     cycle, and a cycle costs what it marks (at 64 MiB, a connection-heavy run's one cycle marked twice the
//     live heap it marks at 32 MiB). Collection is off, under a limit of firstCollection, until the first
//     cycle has run; then GOGC and the soft limit above take over.
func tuneGC() {
	limit := int64(defaultMemoryLimit)
	if os.Getenv("GOMEMLIMIT") != "" {
		limit = debug.SetMemoryLimit(-1) // the variable's value
	}
	if os.Getenv("GOGC") != "" {
		debug.SetMemoryLimit(limit)
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(min(limit, firstCollection))
	sentinel := new([64]byte)
	runtime.AddCleanup(sentinel, func(limit int64) {
		debug.SetGCPercent(defaultGCPercent)
		debug.SetMemoryLimit(limit)
	}, limit)
}

// firstCollection is the memory the runtime counts for its limit (heap, stacks, globals) at which tuneGC lets
// the first collection run: about 23 MiB of heap. Runs over the 100 MB bench capture and the demo stay under
// it.
const firstCollection = 32 << 20

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT says otherwise.
const defaultMemoryLimit = 448 << 20

// defaultGCPercent is the Go runtime's GOGC unless the GOGC variable says otherwise.
const defaultGCPercent = 400

// run dispatches a command line and returns the exit status: 0 pass, 1 failures found, 2 usage or input
// error, 3 inconclusive.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprint(stdout, usage())
		return 0
	case "--version":
		return runVersion(nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		if wantsHelp(args[1:]) {
			// Asked-for help is output, not an error: it goes to standard output (to page or grep it), wrapped
			// to 80 columns. Every command writes its usage to the writer it reports errors to.
			help := &helpWrapper{w: stdout}
			code := c.run(args[1:], stdin, stdout, help)
			help.flush()
			return code
		}
		return c.run(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "intunecap: unknown command %q%s\nRun 'intunecap help' for the list of commands.\n",
		args[0], suggestion(args[0]))
	return 2
}
