// Command labd is the server and client half of the intunecap network lab.
//
// The lab (tools/netlab/lab.sh) runs "labd serve" in the gateway namespace to stand in for Microsoft's
// endpoints and the site's DNS, and "labd tls-client" in the device namespace when a scenario needs a
// handshake that curl or openssl cannot produce (a Go 1.26 post-quantum ClientHello, no SNI, an abort).
// It uses only the standard library and dnsmessage so that it builds anywhere Go does, with CGO_ENABLED=0.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: labd serve [flags]       authoritative DNS, TLS and HTTP servers for the lab
       labd tls-client [flags]  one TLS handshake, as a managed device would make it
       labd tag-vlan [--id ID[,ID]] IN.pcap OUT.pcap  add 802.1Q (or QinQ) tags to an Ethernet pcap
run "labd COMMAND -h" for the flags of a command
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit status, so that tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(args[1:], stderr)
	case "tls-client":
		err = tlsClientCmd(args[1:], stdout)
	case "tag-vlan":
		err = tagVLANCmd(args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "labd: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "labd %s: %v\n", args[0], err)
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks errors caused by the command line, which exit with status 2 like flag errors.
type usageError struct{ error }

// listFlag collects a repeatable flag (--tls :443 --tls :8443) and also accepts comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return fmt.Sprint([]string(*l)) }

func (l *listFlag) Set(v string) error {
	for _, s := range splitComma(v) {
		*l = append(*l, s)
	}
	return nil
}

func splitComma(v string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ',' {
			if i > start {
				out = append(out, v[start:i])
			}
			start = i + 1
		}
	}
	return out
}
