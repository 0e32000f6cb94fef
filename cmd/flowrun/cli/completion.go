package cli

import (
	"fmt"
)

// CompletionCmd prints a shell's completion script. Completion itself is
// done by flowrun: the shell runs it with COMP_LINE set and it prints the
// candidates (see Run in cli.go).
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

// Help shows how to install the scripts.
func (CompletionCmd) Help() string {
	return `Prints a script that makes the shell complete flowrun's commands, flags
and file names; flowrun must be on the PATH.

Examples:
  source <(flowrun completion bash)                 # in ~/.bashrc
  source <(flowrun completion zsh)                  # in ~/.zshrc
  flowrun completion fish > ~/.config/fish/completions/flowrun.fish`
}

var completionScripts = map[string]string{
	"bash": `complete -o default -C flowrun flowrun
`,
	"zsh": `autoload -U +X bashcompinit && bashcompinit
complete -o default -C flowrun flowrun
`,
	"fish": `function __complete_flowrun
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    flowrun
end
complete -f -c flowrun -a "(__complete_flowrun)"
`,
}

// Run prints the script.
func (c *CompletionCmd) Run(e *env) error {
	_, err := fmt.Fprint(e.stdout, completionScripts[c.Shell])
	return err
}
