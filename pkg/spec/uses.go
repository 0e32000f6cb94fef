package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/regular"
)

// calls is the state that a workflow shares with the files it calls
// through uses:, directly or not: the chain of files from the one loaded
// first down to the one being parsed, and every file loaded so far, so
// that a file called by many steps is read and checked once.
type calls struct {
	chain []string // real paths (see identity), the first caller first
	names []string // the same files as they are shown
	done  map[string]*called
	// paths is the policy of the workflow loaded first, which its
	// callees share.
	paths *pathPolicy
	// files, when set, replaces the file system (Options.Files).
	files map[string][]byte
}

// called is a loaded callee and whether its diagnostics were reported.
type called struct {
	wf       *Workflow
	diags    Diagnostics
	reported bool
}

// enter returns the state for parsing file, called from c's last file (or
// loaded on its own when c is nil, with the directories allow adds to its
// own tree).
func (c *calls) enter(file string, allow []string, files map[string][]byte) *calls {
	abs := identity(file)
	if c == nil {
		return &calls{chain: []string{abs}, names: []string{file}, done: make(map[string]*called), paths: newPathPolicy(file, allow), files: files}
	}
	return &calls{
		chain: append(slices.Clip(c.chain), abs),
		names: append(slices.Clip(c.names), file),
		done:  c.done,
		paths: c.paths,
		files: c.files,
	}
}

// identity is the real path of file, symlinks resolved as the kernel
// resolves them, or its absolute path when it cannot be resolved: two
// paths to one file have the same identity.
func identity(file string) string {
	if real, err := filepath.EvalSymlinks(absolute(file)); err == nil {
		return real
	}
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return filepath.Clean(file)
}

// uses loads the workflow a `uses:` step calls and checks its with:
// against the callee's inputs. n is the uses: value.
func (p *loader) uses(s *Step, n *yaml.Node, f map[string]field) {
	if s.Uses == "" {
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			p.errorf(n.Line, n.Column, "write the path of a workflow file, such as ./check.yaml", "uses: is empty")
		}
		return
	}
	if containsExpr(s.Uses) {
		p.errorf(n.Line, n.Column, "the called file is loaded and checked before anything runs", "uses: takes a literal path, not an expression")
		return
	}
	// As the system opens it: its ".." are kept (joinFile).
	path := joinFile(p.wf.Dir, s.Uses)
	if p.calls.files != nil {
		p.usesFromFiles(s, n, f, path)
		return
	}
	// A callee is known by its real path, as the kernel resolves the
	// path: "a/link/../b.yaml" may be another file than "a/b.yaml".
	dir, rel, err := p.calls.paths.resolve(path, s.Uses)
	switch {
	case errors.Is(err, errOutside):
		p.errorf(n.Line, n.Column, "", "uses: %v", err)
		return
	case errors.Is(err, fs.ErrNotExist):
		p.errorf(n.Line, n.Column, fmt.Sprintf("the path is relative to the directory of %s", p.file), "cannot use %q: no workflow file at %s", s.Uses, path)
		return
	}
	real := identity(path)
	if err == nil {
		real, path = filepath.Join(dir, rel), shown(path)
	}
	if i := slices.Index(p.calls.chain, real); i >= 0 {
		chain := append(slices.Clone(p.calls.names[i:]), path)
		p.errorf(n.Line, n.Column, "a workflow cannot call itself, directly or through others", "recursive uses: %s", strings.Join(chain, " -> "))
		return
	}
	c, ok := p.calls.done[real]
	if !ok {
		// The file opened is the one the policy resolved and checked,
		// never the path as written; load checks what it reads.
		var f *os.File
		if err == nil {
			f, err = p.calls.paths.openResolved(dir, rel, path, s.Uses)
		}
		if errors.Is(err, regular.ErrDirectory) {
			p.errorf(n.Line, n.Column, fmt.Sprintf("the path is relative to the directory of %s", p.file), "cannot use %q: no workflow file at %s", s.Uses, path)
			return
		}
		if errors.Is(err, errOutside) {
			p.errorf(n.Line, n.Column, "", "uses: %v", err)
			return
		}
		wf, ds := load(path, f, err, Options{Registry: p.reg, calls: p.calls})
		c = &called{wf: wf, diags: ds}
		p.calls.done[real] = c
	}
	p.callee(s, n, f, path, c)
}

// callee reports a loaded callee's diagnostics once and, if it loaded,
// makes it the step's Callee and checks the step's with: against it.
func (p *loader) callee(s *Step, n *yaml.Node, f map[string]field, path string, c *called) {
	if !c.reported {
		c.reported = true
		p.list = append(p.list, c.diags...)
	}
	if c.diags.HasErrors() || c.wf == nil {
		errs, _ := c.diags.Count()
		p.errorf(n.Line, n.Column, "each is reported at its own position", "the workflow %s that step %q uses has %d error(s)", path, s.ID, errs)
		return
	}
	s.Callee = c.wf
	p.with(s, n, f)
}

// usesFromFiles loads a callee from Options.Files, by the path the
// caller's machine named it: as written (its ".." kept) or cleaned, as
// Load shows a path whose ".." climb out of no symlink.
func (p *loader) usesFromFiles(s *Step, n *yaml.Node, f map[string]field, path string) {
	src, found := p.calls.files[path]
	if !found {
		if src, found = p.calls.files[filepath.Clean(path)]; found {
			path = filepath.Clean(path)
		}
	}
	if !found {
		p.errorf(n.Line, n.Column, "the run's manifest holds the files the run's workflow called when it was loaded", "cannot use %q: %s is not in the run's manifest", s.Uses, path)
		return
	}
	real := identity(path)
	if i := slices.Index(p.calls.chain, real); i >= 0 {
		chain := append(slices.Clone(p.calls.names[i:]), path)
		p.errorf(n.Line, n.Column, "a workflow cannot call itself, directly or through others", "recursive uses: %s", strings.Join(chain, " -> "))
		return
	}
	c, ok := p.calls.done[real]
	if !ok {
		wf, ds := Parse(path, src, Options{Registry: p.reg, calls: p.calls})
		c = &called{wf: wf, diags: ds}
		p.calls.done[real] = c
	}
	p.callee(s, n, f, path, c)
}

// with checks a uses step's with: against the callee's inputs: every key
// names an input, literals have the input's type, required inputs are set.
func (p *loader) with(s *Step, usesNode *yaml.Node, f map[string]field) {
	callee := s.Callee
	names := inputNames(callee.Inputs)
	set := make(map[string]bool)
	if w, ok := f["with"]; ok {
		n := deref(w.value)
		fields := p.fields(n, "with", nil)
		for i := 0; fields != nil && i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], deref(n.Content[i+1])
			if pair, ok := fields[k.Value]; !ok || pair.key != k {
				continue
			}
			in := inputNamed(callee.Inputs, k.Value)
			if in == nil {
				detail := didYouMean(closestName(k.Value, names))
				switch {
				case detail != "":
				case len(names) == 0:
					detail = callee.File + " declares no inputs"
				default:
					detail = "its inputs: " + strings.Join(names, ", ")
				}
				p.errorf(k.Line, k.Column, detail, "unknown input %q of %s", k.Value, callee.File)
				continue
			}
			set[in.Name] = true
			p.withValue(in, v, callee.File)
		}
	}
	for _, in := range callee.Inputs {
		if in.Required && !set[in.Name] {
			p.errorf(usesNode.Line, usesNode.Column, fmt.Sprintf("add `%s:` under with:", in.Name), "input %q of %s is required", in.Name, callee.File)
		}
	}
}

// withValue checks one with: value against its input's type, as far as it
// is known before running: literals fully, expressions by their shape.
func (p *loader) withValue(in *Input, v *yaml.Node, file string) {
	if v.Kind == yaml.ScalarNode && containsExpr(v.Value) {
		// A single ${{ }} keeps its value's type, checked when the call
		// runs; text around an expression makes a string.
		if in.Type != "string" && !isSingleExpr(v.Value) {
			p.errorf(v.Line, v.Column, "use a single ${{ }} to pass a typed value", "input %q of %s wants %s; text with expressions inside is a string", in.Name, file, article(in.Type))
		}
		return
	}
	if hasExpr(v) {
		want := map[string]yaml.Kind{"list": yaml.SequenceNode, "object": yaml.MappingNode}[in.Type]
		if want != v.Kind {
			p.errorf(v.Line, v.Column, "", "input %q of %s wants %s, not %s", in.Name, file, article(in.Type), kindName(v))
		}
		return
	}
	p.freeForm(v)
	var x any
	if err := v.Decode(&x); err != nil {
		p.errorf(v.Line, v.Column, "", "input %q of %s: %v", in.Name, file, err)
		return
	}
	if _, err := in.Convert(normalize(x)); err != nil {
		p.errorf(v.Line, v.Column, "", "input %q of %s: %v", in.Name, file, err)
	}
}

// isSingleExpr reports whether s is exactly one ${{ }}, spaces aside.
func isSingleExpr(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}") && closing(s[3:]) == len(s)-5
}

// hasExpr reports whether any scalar under n holds an expression.
func hasExpr(n *yaml.Node) bool {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		return containsExpr(n.Value)
	}
	return slices.ContainsFunc(n.Content, hasExpr)
}

func inputNamed(ins []*Input, name string) *Input {
	for _, in := range ins {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Callees returns the source of every workflow file w calls through uses:,
// directly or not, by path as Options.Files wants it: what another machine
// needs besides w itself to compile w the same way.
func (w *Workflow) Callees() map[string][]byte {
	out := map[string][]byte{}
	var walk func(*Workflow)
	walk = func(w *Workflow) {
		for _, s := range append(slices.Clip(w.Steps), w.Finally...) {
			if c := s.Callee; c != nil {
				if _, seen := out[c.File]; !seen {
					out[c.File] = c.Source
					walk(c)
				}
			}
		}
	}
	walk(w)
	return out
}
