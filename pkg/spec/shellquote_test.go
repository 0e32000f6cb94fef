package spec

import (
	"strings"
	"testing"
)

// TestShellQuotes: an expression where the shell does not expand the
// ${FLOWRUN_EXPR_n} reference it becomes is an error at validate, with
// the fix; everywhere else it is fine.
func TestShellQuotes(t *testing.T) {
	for _, tt := range []struct{ name, script, want string }{
		{"single quotes", `echo '${{ inputs.s }}'`, `wf.yaml:6:17: the shell does not expand this expression inside single quotes`},
		{"single quotes, text around", `echo 'id: ${{ inputs.s }}!'`, `inside single quotes`},
		{"ANSI-C quotes", `echo $'${{ inputs.s }}'`, `inside $'...'`},
		{"comment", `echo hi # ${{ inputs.s }}`, `in a comment`},
		{"quoted here-document", "cat <<'EOF'\n      ${{ inputs.s }}\n      EOF", `in a here-document whose delimiter is quoted`},
		{"single quotes in $( )", `echo "$(echo '${{ inputs.s }}')"`, `inside single quotes`},
		{"double quotes", `echo "${{ inputs.s }}"`, ""},
		{"no quotes", `echo ${{ inputs.s }}`, ""},
		{"a quote in double quotes", `echo "it's ${{ inputs.s }}"`, ""},
		{"after single quotes", `echo 'a' ${{ inputs.s }} 'b'`, ""},
		{"escaped quote", `echo \' ${{ inputs.s }}`, ""},
		{"hash in a word", `echo a#${{ inputs.s }} $#`, ""},
		{"here-document", "cat <<EOF\n      ${{ inputs.s }}\n      EOF", ""},
		{"after a quoted here-document", "cat <<'EOF'\n      text\n      EOF\n      echo ${{ inputs.s }}", ""},
		{"here-string", `cat <<< '${{ inputs.s }}'`, `inside single quotes`},
		{"command substitution", `echo "$(printf '%s' ${{ inputs.s }})"`, ""},
		{"arithmetic", `echo $((1 + 2)) '' ${{ inputs.s }}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\ninputs:\n  s: {}\nsteps:\n  - id: a\n    run: |\n      " + tt.script + "\n"
			if !strings.Contains(tt.script, "\n") && !strings.Contains(tt.script, "#") {
				src = "version: 1\ninputs:\n  s: {}\nsteps:\n  - id: a\n    run: " + yamlQuote(tt.script) + "\n"
			}
			_, ds := parse(t, src)
			got := ds.Error()
			if tt.want == "" && ds.HasErrors() || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("script %s\ndiagnostics:\n%s\nwant: %q", tt.script, got, tt.want)
			}
		})
	}
}

// yamlQuote writes s as a double-quoted YAML string.
func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
