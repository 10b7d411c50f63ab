// Command intunecap tells, from a packet capture, whether a network lets managed devices reach Microsoft
// Intune: it reads DNS, TLS ClientHello SNI, HTTP Host and CONNECT, follows every TCP connection to its fate,
// and checks each name and port against Microsoft's requirements table.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: intunecap <command> [flags] [args]

Tell from a packet capture whether managed devices can reach Microsoft Intune.

Commands:
  analyze FILE...    analyze capture files (pcap, pcapng, gzipped; "-" is standard input)
  live -i IFACE      watch an interface and report problems as they happen
  probe              contact every endpoint of the tables, capture it and judge each row
  interfaces         list the interfaces live can capture on
  check FILE...      check captures against expectations or a baseline, for CI
  baseline FILE...   record what a known-good capture shows, for check --baseline
  rules              list, check, match and diff requirement tables
  version            print the version

Run "intunecap <command> -h" for a command's flags.
`

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// The engine's tables are capped (docs/report.md, Limits) at about 300 MiB when full; a soft limit
		// makes the garbage collector keep the process near that instead of doubling it. GOMEMLIMIT overrides.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		// Almost nothing is allocated per packet, so the heap is mostly long-lived tables: collecting each
		// time it doubles costs more than the memory it saves. The soft limit above still bounds it.
		debug.SetGCPercent(defaultGCPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT says otherwise.
const defaultMemoryLimit = 448 << 20

// defaultGCPercent is the Go runtime's GOGC unless the GOGC variable says otherwise.
const defaultGCPercent = 400

// run dispatches a command line and returns the exit status: 0 fine, 1 failures found, 2 usage or input error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "analyze":
		return runAnalyze(args[1:], stdin, stdout, stderr)
	case "rules":
		return runRules(args[1:], stdout, stderr)
	case "live":
		return runLive(args[1:], stdout, stderr)
	case "probe":
		return runProbe(args[1:], stdout, stderr)
	case "interfaces":
		return runInterfaces(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "baseline":
		return runBaseline(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "intunecap %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "intunecap: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
