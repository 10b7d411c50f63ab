package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// compCommand is a command as the completion scripts know it: its flags and its subcommands, read from the
// same -h text the user reads.
type compCommand struct {
	name  string
	flags []string // "--format", "-f", ...
	subs  []compCommand
}

// flagLine matches a flag in pflag's listing: "  -f, --format FORMAT   ..." or "      --wide   ...".
var flagLine = regexp.MustCompile(`^\s+(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][-A-Za-z0-9]*)`)

// subLine matches a subcommand in a "Commands:" section: "  list [--rules SPEC]...   print ...".
var subLine = regexp.MustCompile(`^  ([a-z]+)\b`)

// completionModel reads every command's help into the shape the scripts need.
func completionModel() []compCommand {
	var out []compCommand
	for _, c := range commands() {
		cc := compCommand{name: c.name}
		if c.name == "help" {
			out = append(out, cc)
			continue
		}
		help := commandHelp(c.name)
		cc.flags = helpFlags(help)
		for _, sub := range helpSubcommands(help) {
			cc.subs = append(cc.subs, compCommand{name: sub, flags: helpFlags(commandHelp(c.name, sub))})
		}
		out = append(out, cc)
	}
	return out
}

// helpFlags lists the flags in a help text, long and short, in order.
func helpFlags(help string) []string {
	flags := []string{"--help", "-h"}
	for _, line := range strings.Split(help, "\n") {
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		flags = append(flags, "--"+m[2])
		if m[1] != "" {
			flags = append(flags, "-"+m[1])
		}
	}
	return flags
}

// helpSubcommands lists the words of a help text's "Commands:" section.
func helpSubcommands(help string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case line == "Commands:":
			in = true
		case in && line == "":
			return out
		case in:
			if m := subLine.FindStringSubmatch(line); m != nil {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// completionShells are the shells runCompletion writes scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

const completionUsage = `usage: intunecap completion bash|zsh|fish|powershell

Print a script that completes intunecap's commands, flags and subcommands (and
file names for captures). Load it for this shell, or install it:

  bash:        source <(intunecap completion bash)
               intunecap completion bash > /etc/bash_completion.d/intunecap
  zsh:         source <(intunecap completion zsh)
  fish:        intunecap completion fish > ~/.config/fish/completions/intunecap.fish
  powershell:  intunecap completion powershell | Out-String | Invoke-Expression
`

func runCompletion(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stderr, completionUsage)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintf(stderr, "intunecap completion: name one shell (%s)\nRun 'intunecap completion -h' for usage.\n",
			strings.Join(completionShells, ", "))
		return 2
	}
	model := completionModel()
	var script string
	switch args[0] {
	case "bash":
		script = bashCompletion(model)
	case "zsh":
		script = "#compdef intunecap\n# zsh runs the bash completion through bashcompinit.\nautoload -U +X bashcompinit && bashcompinit\n" + bashCompletion(model)
	case "fish":
		script = fishCompletion(model)
	case "powershell":
		script = powershellCompletion(model)
	default:
		fmt.Fprintf(stderr, "intunecap completion: unknown shell %q (want %s)\nRun 'intunecap completion -h' for usage.\n",
			args[0], strings.Join(completionShells, ", "))
		return 2
	}
	if _, err := io.WriteString(stdout, script); err != nil {
		fmt.Fprintf(stderr, "intunecap completion: %v\n", err)
		return 2
	}
	return 0
}

func names(cmds []compCommand) string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.name
	}
	return strings.Join(out, " ")
}

// bashCompletion completes the command, then its subcommand (rules), then flags when the word starts with a
// dash; anything else falls back to file names (complete -o default).
func bashCompletion(model []compCommand) string {
	var b strings.Builder
	b.WriteString(`# bash completion for intunecap (intunecap completion bash)
_intunecap() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmd="" sub="" i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        [[ $w == -* ]] && continue
        if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi
    done
    local words=""
    case "$cmd/$sub" in
`)
	fmt.Fprintf(&b, "        /) words=%q ;;\n", names(model))
	for _, c := range model {
		switch {
		case c.name == "help":
			fmt.Fprintf(&b, "        help/) words=%q ;;\n", names(model))
		case c.name == "completion":
			fmt.Fprintf(&b, "        completion/) words=%q ;;\n", strings.Join(completionShells, " "))
		case len(c.subs) > 0:
			fmt.Fprintf(&b, "        %s/) words=%q ;;\n", c.name, names(c.subs)+" "+strings.Join(c.flags, " "))
			for _, s := range c.subs {
				fmt.Fprintf(&b, "        %s/%s) words=%q ;;\n", c.name, s.name, strings.Join(s.flags, " "))
			}
		default:
			fmt.Fprintf(&b, "        %s/*) words=%q ;;\n", c.name, strings.Join(c.flags, " "))
		}
	}
	b.WriteString(`    esac
    if [[ $cur == -* || -z $cmd || $cmd == help || $cmd == completion || ($cmd == rules && -z $sub) ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    else
        COMPREPLY=()
    fi
}
complete -o default -F _intunecap intunecap
`)
	return b.String()
}

// fishCompletion gives each command, subcommand and flag a complete line.
func fishCompletion(model []compCommand) string {
	var b strings.Builder
	b.WriteString("# fish completion for intunecap (intunecap completion fish)\ncomplete -c intunecap -e\n")
	summaries := map[string]string{}
	for _, c := range commands() {
		summaries[c.name] = c.summary
	}
	for _, c := range model {
		fmt.Fprintf(&b, "complete -c intunecap -f -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(summaries[c.name]))
	}
	for _, c := range model {
		cond := "__fish_seen_subcommand_from " + c.name
		switch c.name {
		case "help":
			fmt.Fprintf(&b, "complete -c intunecap -f -n %s -a %s\n", fishQuote(cond), fishQuote(names(model)))
		case "completion":
			fmt.Fprintf(&b, "complete -c intunecap -f -n %s -a %s\n", fishQuote(cond), fishQuote(strings.Join(completionShells, " ")))
		}
		if len(c.subs) > 0 {
			fmt.Fprintf(&b, "complete -c intunecap -f -n %s -a %s\n",
				fishQuote(cond+"; and not __fish_seen_subcommand_from "+names(c.subs)), fishQuote(names(c.subs)))
			for _, s := range c.subs {
				writeFishFlags(&b, cond+"; and __fish_seen_subcommand_from "+s.name, s.flags)
			}
		}
		writeFishFlags(&b, cond, c.flags)
	}
	return b.String()
}

func writeFishFlags(b *strings.Builder, cond string, flags []string) {
	for _, f := range flags {
		if strings.HasPrefix(f, "--") {
			fmt.Fprintf(b, "complete -c intunecap -n %s -l %s\n", fishQuote(cond), f[2:])
		} else {
			fmt.Fprintf(b, "complete -c intunecap -n %s -s %s\n", fishQuote(cond), f[1:])
		}
	}
}

// fishQuote single-quotes s for fish, which escapes only backslash and quote inside single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// powershellCompletion registers a native argument completer: the command, the subcommand, then flags.
func powershellCompletion(model []compCommand) string {
	var b strings.Builder
	b.WriteString(`# PowerShell completion for intunecap (intunecap completion powershell)
Register-ArgumentCompleter -Native -CommandName intunecap -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() } |
        Where-Object { $_ -ne $wordToComplete -and $_ -notlike '-*' })
    $key = ($words | Select-Object -First 2) -join '/'
    $candidates = switch ($key) {
`)
	fmt.Fprintf(&b, "        '' { %s }\n", psList(strings.Fields(names(model))))
	for _, c := range model {
		switch {
		case c.name == "help":
			fmt.Fprintf(&b, "        'help' { %s }\n", psList(strings.Fields(names(model))))
		case c.name == "completion":
			fmt.Fprintf(&b, "        'completion' { %s }\n", psList(completionShells))
		case len(c.subs) > 0:
			fmt.Fprintf(&b, "        '%s' { %s }\n", c.name, psList(append(strings.Fields(names(c.subs)), c.flags...)))
			for _, s := range c.subs {
				fmt.Fprintf(&b, "        '%s/%s' { %s }\n", c.name, s.name, psList(s.flags))
			}
		default:
			fmt.Fprintf(&b, "        { $_ -like '%s*' } { %s }\n", c.name, psList(c.flags))
		}
	}
	b.WriteString(`        default { @() }
    }
    $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
`)
	return b.String()
}

// psList is a PowerShell array of single-quoted words (the words are flags and command names: no quotes).
func psList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", "''") + "'"
	}
	return "@(" + strings.Join(q, ", ") + ")"
}
