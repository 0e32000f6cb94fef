package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/suggest"
)

// envScope says which env.NAME an expression may read: the workflow's
// env: everywhere, and in a step's action (run:, http:, with: ...) also
// the step's own env:. It is what pkg/exec gives expressions at run time:
//
//   - an entry of the workflow's env: reads the entries before it;
//   - a step's env: entries read the workflow's env:, not each other;
//   - a step's if: and parallel: read the workflow's env:;
//   - the step's action reads both, the step's entries winning;
//   - outputs: read the workflow's env:.
//
// The process environment is not in it: an input's env: reads a variable
// (inputs: {token: {env: API_TOKEN}}), so that what a workflow takes from
// its environment is declared and typed.
type envScope struct {
	names []string
	// hidden are names declared where this expression cannot read them,
	// with the reason.
	hidden map[string]string
	// id tells apart the scopes compiledTemplate caches templates by.
	id int
}

// withEnv returns sc reading names, with hidden names explained.
func (p *loader) withEnv(sc scope, names []string, hidden map[string]string) scope {
	p.envIDs++
	sc.envs = envScope{names: names, hidden: hidden, id: p.envIDs}
	return sc
}

// envKeys returns the keys of an env: mapping, in order, before its
// values are compiled.
func envKeys(n *yaml.Node) []string {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && !slices.Contains(out, k.Value) {
			out = append(out, k.Value)
		}
	}
	return out
}

// hide returns a map of each name to why.
func hide(names []string, why string) map[string]string {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = why
	}
	return m
}

// checkEnvName reports env.NAME where NAME is not in the expression's env
// scope, at the name's column, with a suggestion.
func (c *diags) checkEnvName(e *Expr, prop *ast.StringNode, sc *scope) bool {
	name := prop.Value
	if slices.Contains(sc.envs.names, name) {
		return true
	}
	at := prop.Location().From
	if why, ok := sc.envs.hidden[name]; ok {
		c.at(e, at, why, "env.%s cannot be read here", name)
		return false
	}
	detail := didYouMean(suggest.Closest(name, sc.envs.names))
	if detail == "" {
		in := strings.ToLower(name)
		if !identifier.MatchString(in) {
			in = "value"
		}
		detail = fmt.Sprintf("env.NAME reads the workflow's env: (in a step's action also the step's env:), not the process environment; "+
			"declare it under env:, or read the variable through an input: `inputs: {%s: {type: string, env: %s}}`, then inputs.%s", in, name, in)
	}
	c.at(e, at, detail, "unknown env variable %q", name)
	return false
}

// workflowEnv decodes the workflow's env:, whose entries each read those
// before them.
func (p *loader) workflowEnv(n *yaml.Node, sc scope) []*EnvVar {
	keys := envKeys(n)
	scopes := make(map[string]*scope, len(keys))
	for i, k := range keys {
		entry := p.withEnv(sc, keys[:i:i], hide(keys[i:], "an entry of the workflow's env: reads only the entries before it"))
		scopes[k] = &entry
	}
	return p.env(n, func(name string) *scope { return scopes[name] })
}

// envNames returns the names of env entries.
func envNames(list []*EnvVar) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Name
	}
	return out
}

// without returns the names of list that are not in drop.
func without(list, drop []string) []string {
	var out []string
	for _, n := range list {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

// actionName is the action key of a step mapping, for messages: "run",
// "http", "uses"; "run" when it has none.
func actionName(n *yaml.Node, reg interface{ Has(string) bool }) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "uses" || reg.Has(k) {
			return k
		}
	}
	return "run"
}
