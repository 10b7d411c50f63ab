package main

import (
	"fmt"
	"io"
	"strings"
)

const manUsage = `usage: intunecap man

Print intunecap's manual page in roff (man(7) macros), made from the same text
as every command's -h. "make man" writes it to bin/intunecap.1; read it with
man -l bin/intunecap.1.
`

func runMan(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stderr, manUsage)
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "intunecap man: unexpected argument %q\nRun 'intunecap man -h' for usage.\n", args[0])
		return 2
	}
	if _, err := io.WriteString(stdout, manPage()); err != nil {
		fmt.Fprintf(stderr, "intunecap man: %v\n", err)
		return 2
	}
	return 0
}

// manPage is the manual page: the top-level help, then each command's help as it prints it, preformatted.
// It carries no date, so it depends on the help text alone.
func manPage() string {
	var b strings.Builder
	b.WriteString(`.TH INTUNECAP 1 "" "intunecap" "User Commands"
.SH NAME
intunecap \- tell from a packet capture whether managed devices can reach Microsoft Intune
.SH SYNOPSIS
.B intunecap
.I command
.RI [ flags ]
.RI [ args ]
.SH DESCRIPTION
intunecap reads a packet capture (or watches an interface), follows every TCP connection and DNS lookup to its
fate, reads the name each was for, and checks name and port against Microsoft's requirements table.
Each run ends in one outcome: PASS, FAIL or INCONCLUSIVE.
.PP
`)
	b.WriteString(preformatted(usage()))
	b.WriteString(".SH COMMANDS\n")
	for _, c := range commands() {
		if c.name == "help" {
			continue
		}
		fmt.Fprintf(&b, ".SS %s\n", roffText("intunecap "+c.name))
		b.WriteString(preformatted(commandHelp(c.name)))
		for _, sub := range helpSubcommands(commandHelp(c.name)) {
			fmt.Fprintf(&b, ".SS %s\n", roffText("intunecap "+c.name+" "+sub))
			b.WriteString(preformatted(commandHelp(c.name, sub)))
		}
	}
	b.WriteString(`.SH EXIT STATUS
.TP
.B 0
pass: nothing failed, Intune traffic was seen, and the capture was readable
.TP
.B 1
fail: the network blocked or reset traffic a device needs (a verdict in \-\-fail\-on)
.TP
.B 2
a usage error, unreadable input, or an output path that is also an input
.TP
.B 3
inconclusive: the capture cannot tell (no Intune traffic in it, or too much of it undecodable or lost)
.SH SEE ALSO
.BR tcpdump (1),
.BR tshark (1).
The user guide is in the docs/ folder of the source: report.md, ci.md, live.md, rules.md, capturing.md.
`)
	return b.String()
}

// preformatted sets help text as it prints, in a no-fill block.
func preformatted(text string) string {
	var b strings.Builder
	b.WriteString(".PP\n.nf\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(roffLine(line) + "\n")
	}
	b.WriteString(".fi\n")
	return b.String()
}

// roffLine escapes one line of text for roff: backslashes, hyphens, non-ASCII characters, and a leading dot
// or quote that would read as a request.
func roffLine(line string) string {
	s := roffText(line)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffText escapes text inside a line.
func roffText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7e:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
