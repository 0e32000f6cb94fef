package spec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/regular"
	"github.com/flowrun/flowrun/pkg/steps"
)

// MaxFileSize is the largest workflow file Load accepts.
const MaxFileSize = 8 << 20

// maxNodes bounds the YAML nodes visited in one file, aliases expanded, so
// that an alias bomb is an error rather than an exhausted machine.
const maxNodes = 1_000_000

// Workflow is a loaded, checked and compiled workflow file.
type Workflow struct {
	// File is the path the workflow was loaded from, as given.
	File string
	// Dir is the directory relative paths in the workflow resolve against.
	Dir string
	// Source is the file's contents, for rendering diagnostics.
	Source []byte

	Version int
	Name    string
	Inputs  []*Input
	Env     []*EnvVar
	// Steps are the main steps in file order; Order is the same steps in a
	// topological order of their dependencies.
	Steps   []*Step
	Order   []*Step
	Finally []*Step
	Outputs []*NamedValue

	byID map[string]*Step // every step by id, once the steps are parsed
}

// EnvVar is one entry of an env: mapping: a NamedValue whose name is an
// environment variable name.
type EnvVar = NamedValue

// NamedValue is one entry of a mapping of names to templates: env:,
// outputs:.
type NamedValue struct {
	Name  string
	Value *Template
}

// Step returns the main or finally step with the given id, or nil.
func (w *Workflow) Step(id string) *Step {
	if w.byID != nil {
		return w.byID[id]
	}
	for _, s := range w.Steps {
		if s.ID == id {
			return s
		}
	}
	for _, s := range w.Finally {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Options configure Load and Parse.
type Options struct {
	// Registry holds the step types a workflow may use; nil means
	// steps.Default.
	Registry *steps.Registry

	// AllowPaths are directories, besides the tree of the workflow file
	// loaded first, whose files uses: and items_from may read (the
	// --allow-path flag). Paths are compared with symlinks resolved.
	AllowPaths []string

	// Files, when set, holds the workflow files that uses: steps call,
	// by path as the loader names them (the calling file's directory
	// joined with the uses: path, as Workflow.File of the callee shows
	// it), and uses: reads them from there instead of the file system: a
	// cluster worker compiles a run's workflow from the run's manifest
	// (Workflow.Callees). AllowPaths does not apply: it did where the
	// manifest was made.
	Files map[string][]byte

	// calls is the chain of files being loaded through uses:, and the
	// files already loaded; nil for a file loaded on its own.
	calls *calls
}

// Load reads and parses the workflow file at path, which must be a regular
// file of at most MaxFileSize bytes.
func Load(path string, opts Options) (*Workflow, Diagnostics) {
	f, err := regular.Open(path)
	return load(path, f, err, opts)
}

// load is Load for a file already opened: f and err are the result of
// opening path. It closes f.
func load(path string, f *os.File, err error, opts Options) (*Workflow, Diagnostics) {
	var src []byte
	if err == nil {
		src, err = regular.ReadAll(f, path, MaxFileSize)
		f.Close()
	}
	if err != nil {
		msg := strings.TrimPrefix(readError(err).Error(), path+": ") // the position names it
		return nil, Diagnostics{{Severity: Error, Summary: "cannot read workflow: " + msg, Pos: Pos{File: path}}}
	}
	return Parse(path, src, opts)
}

// ReadFile reads a workflow file as Load does: a regular file (not a
// device or a FIFO) of at most MaxFileSize bytes. The error does not
// repeat the path when the file does not exist.
func ReadFile(path string) ([]byte, error) {
	src, err := regular.ReadFile(path, MaxFileSize)
	return src, readError(err)
}

// readError is err, but "no such file" without the path when the file
// does not exist.
func readError(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file")
	}
	return err
}

// TopKeys are the keys of a workflow file.
var TopKeys = []string{"version", "name", "inputs", "env", "steps", "finally", "outputs"}

// Parse parses a workflow from src; file names it in diagnostics, which
// carry src (Diagnostic.Source). The workflow is nil only when the file
// is not usable YAML at all.
func Parse(file string, src []byte, opts Options) (*Workflow, Diagnostics) {
	w, ds := parseSource(file, src, opts)
	for _, d := range ds {
		if d.File == file && d.Source == nil && !d.NoSnippet {
			d.Source = src
		}
	}
	return w, ds
}

func parseSource(file string, src []byte, opts Options) (*Workflow, Diagnostics) {
	if opts.Registry == nil {
		opts.Registry = steps.Default
	}
	c := &diags{file: file}
	w := &Workflow{File: file, Dir: filepath.Dir(file), Source: src}
	root := c.document(src)
	if why := notWorkflow(src, root, c.list); why != "" {
		// Whatever the file is — a .env file, a key — its content is
		// never quoted: no snippet, no key names, no YAML message.
		return nil, Diagnostics{{Severity: Error, Pos: Pos{File: file, Line: 1, Column: 1}, NoSnippet: true,
			Summary: "not a flowrun workflow: " + why,
			Detail:  "a workflow is a YAML mapping with `version: 1` and `steps:`; the file's content is not shown"}}
	}
	if root == nil {
		return nil, c.list
	}
	switch count, deep := countNodes(root); {
	case deep != nil:
		c.errorf(deep.Line, deep.Column, "flatten the document", "the document nests more than %d levels deep", maxDepth)
		return nil, c.list
	case count > maxNodes:
		c.errorf(root.Line, root.Column, "aliases that expand to that many nodes are not supported", "the document expands to more than %d YAML nodes", maxNodes)
		return nil, c.list
	}
	p := &loader{diags: c, src: indexLines(src), reg: opts.Registry, wf: w, calls: opts.calls.enter(file, opts.AllowPaths, opts.Files)}
	p.workflow(root)
	c.checkNumbers(root, false) // after: the loader says which scalars it read as text
	if opts.calls == nil {
		// Once, from the workflow run first: whether a callee's file
		// conflicts depends on how it is called.
		p.checkFiles()
	}
	c.list.Sort()
	c.list = c.list.dedupe()
	return w, c.list
}

// workflowKey matches a line that starts a workflow's version: or steps:.
var workflowKey = regexp.MustCompile(`(?m)^(version|steps)[ \t]*:`)

// notWorkflow says why a file is not recognisably a workflow, or returns
// "" when it is: a mapping with a version: or steps: key, or a file too
// broken to decode (ds says why) that has such a key at the start of a
// line. The reason never quotes the file.
func notWorkflow(src []byte, root *yaml.Node, ds Diagnostics) string {
	switch {
	case root != nil:
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k := root.Content[i].Value; k == "version" || k == "steps" {
				return ""
			}
		}
		return "it has neither `version:` nor `steps:`"
	case workflowKey.Match(src) || len(ds) == 0:
		return ""
	}
	switch s := ds[0].Summary; {
	case strings.HasPrefix(s, "invalid YAML"):
		return "it is not valid YAML"
	case strings.HasPrefix(s, "a workflow must be a mapping"):
		return "it is not a YAML mapping"
	case s == "the file is empty", s == "the file has no content", s == "the file is not valid UTF-8":
		return s
	}
	return "it is not a YAML mapping"
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// document decodes src into its root mapping node.
func (c *diags) document(src []byte) *yaml.Node {
	if !utf8.Valid(src) {
		bad := invalidUTF8(src)
		line := 1 + bytes.Count(src[:bad], []byte("\n"))
		col := 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:bad], '\n')+1:bad])
		c.errorf(line, col, "save the file as UTF-8", "the file is not valid UTF-8")
		return nil
	}
	if len(bytes.TrimSpace(src)) == 0 {
		c.errorf(1, 1, "a workflow needs at least `version: 1` and `steps:`", "the file is empty")
		return nil
	}
	if bad := disallowedChar(src); bad >= 0 {
		// The YAML decoder refuses these without a position.
		r, _ := utf8.DecodeRune(src[bad:])
		line := 1 + bytes.Count(src[:bad], []byte("\n"))
		col := 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:bad], '\n')+1:bad])
		c.errorf(line, col, "YAML allows no control characters but tab and line breaks; write them as escapes in a double-quoted string, such as \"\\0\"", "the file holds the control character U+%04X", r)
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err == io.EOF {
		c.errorf(1, 1, "a workflow needs at least `version: 1` and `steps:`", "the file has no content")
		return nil
	} else if err != nil {
		c.yamlError(err, src)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		c.errorf(extra.Line, extra.Column, "a workflow file holds one YAML document; remove the `---` separator", "more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		c.errorf(1, 1, "a workflow needs at least `version: 1` and `steps:`", "the file has no content")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		c.errorf(root.Line, root.Column, "a workflow needs at least `version: 1` and `steps:`", "a workflow must be a mapping, not %s", kindName(root))
		return nil
	}
	return root
}

// disallowedChar returns the offset of the first character YAML does not
// allow in a stream (the printable set of YAML 1.2, as the decoder checks
// it), or -1. src is valid UTF-8.
func disallowedChar(src []byte) int {
	for i, r := range string(src) {
		ok := r == 0x09 || r == 0x0a || r == 0x0d || 0x20 <= r && r <= 0x7e || r == 0x85 ||
			0xa0 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff
		if !ok {
			return i
		}
	}
	return -1
}

func invalidUTF8(src []byte) int {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(src)
}

// yamlError turns a YAML syntax error into a diagnostic at its line. The
// YAML decoder names no column; a tab in the line's indentation is the
// likely culprit and gets the caret.
func (c *diags) yamlError(err error, src []byte) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(strings.SplitN(msg, "\n", 2)[0]); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	}
	detail, col := "", 1
	if strings.Contains(msg, "found character that cannot start any token") || strings.Contains(msg, "tab") {
		detail = "YAML does not allow tabs for indentation; use spaces"
		// The decoder may name the line where the enclosing block
		// starts: look at the few lines after it too.
		for l := line; l <= line+3; l++ {
			text, ok := sourceLine(src, l)
			if !ok {
				break
			}
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			if i := strings.IndexByte(indent, '\t'); i >= 0 {
				line, col = l, i+1
				break
			}
		}
	}
	if strings.Contains(msg, "mapping values are not allowed") || strings.Contains(msg, "did not find expected") {
		// Most often a line indented wrong, reported at or before it.
		if l, ind, d := misindented(src, line); l > 0 && l <= line+50 {
			c.errorf(l, ind+1, d, "invalid YAML: %s", msg)
			return
		}
	}
	if strings.Contains(msg, "mapping values are not allowed") {
		// A plain value holding ": " (an expression with a map literal
		// or a ternary, a shell command): point at the second colon.
		if text, ok := sourceLine(src, line); ok {
			if first := strings.Index(text, ": "); first >= 0 {
				if second := strings.Index(text[first+2:], ": "); second >= 0 {
					col = len([]rune(text[:first+2+second])) + 1
				}
			}
		}
		detail = `a value that holds ": " must be quoted: key: "a: b"`
	}
	c.errorf(line, col, detail, "invalid YAML: %s", msg)
}

// maxDepth bounds the nesting of YAML nodes, aliases followed: every walk
// over a document recurses once per level.
const maxDepth = 1000

// countNodes counts the nodes under n with aliases expanded, stopping once
// the count passes maxNodes or a node lies deeper than maxDepth, which it
// then returns.
func countNodes(n *yaml.Node) (count int, deep *yaml.Node) {
	var walk func(*yaml.Node, int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || count > maxNodes || deep != nil {
			return
		}
		count++
		if depth > maxDepth {
			deep = n
			return
		}
		if n.Kind == yaml.AliasNode {
			walk(n.Alias, depth+1)
			return
		}
		for _, ch := range n.Content {
			walk(ch, depth+1)
		}
	}
	walk(n, 0)
	return count, deep
}

// loader holds the state of one Parse call.
type loader struct {
	*diags
	src *lineIndex
	reg *steps.Registry
	wf  *Workflow
	sc  scope
	// calls tracks uses: across files: recursion and loading each once.
	calls *calls
	// templates caches the templates of scalars by node and scope: an
	// alias makes one scalar appear many times, and it is compiled once.
	templates map[templateKey]*Template
	// envIDs numbers the env scopes (envscope.go).
	envIDs int
}

func (p *loader) workflow(root *yaml.Node) {
	f := p.fields(root, "workflow", TopKeys)
	w := p.wf
	if v, ok := f["version"]; !ok {
		p.errorf(root.Line, root.Column, "add `version: 1` at the top of the file", "missing version")
	} else if v.value.Value != "1" || v.value.Kind != yaml.ScalarNode {
		p.errorf(v.value.Line, v.value.Column, "this flowrun reads format version 1", "unsupported version %s", truncate(v.value.Value, 20))
	} else {
		w.Version = 1
	}
	if v, ok := f["name"]; ok {
		w.Name, _ = p.str(deref(v.value), "name")
	}
	if v, ok := f["inputs"]; ok {
		w.Inputs = p.inputs(deref(v.value))
	}
	p.sc.inputs = w.Inputs
	// Step ids are collected first so that expressions anywhere can be
	// checked against them, whatever the order of the file.
	stepsNode, finallyNode := nodeOf(f, "steps"), nodeOf(f, "finally")
	p.sc.steps = append(p.stepIDs(stepsNode), p.stepIDs(finallyNode)...)
	p.sc.stepSet = make(map[string]bool, len(p.sc.steps))
	for _, id := range p.sc.steps {
		p.sc.stepSet[id] = true
	}
	if v, ok := f["env"]; ok {
		w.Env = p.workflowEnv(deref(v.value), p.sc)
	}
	p.sc = p.withEnv(p.sc, envNames(w.Env), nil)
	if stepsNode == nil {
		if !misspelled(root, TopKeys, "steps") {
			p.errorf(root.Line, root.Column, "add a list of steps under `steps:`", "missing steps")
		}
	} else {
		w.Steps = p.stepList(stepsNode, "steps", false)
	}
	if finallyNode != nil {
		w.Finally = p.stepList(finallyNode, "finally", true)
	}
	if v, ok := f["outputs"]; ok {
		w.Outputs = p.namedValues(deref(v.value), "outputs", &p.sc)
	}
	p.dag()
	p.checkItemsFiles()
	p.checkKeptReads()
	p.markOutputReads()
	p.checkShapes()
	p.checkOutputTypes()
}

func nodeOf(f map[string]field, key string) *yaml.Node {
	if v, ok := f[key]; ok {
		return deref(v.value)
	}
	return nil
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// env decodes an env: mapping, each entry's value compiled in scopeOf(its
// name).
func (p *loader) env(n *yaml.Node, scopeOf func(name string) *scope) []*EnvVar {
	out := p.namedValuesBy(n, "env", scopeOf)
	for _, e := range out {
		if !envName.MatchString(e.Name) {
			p.errorf(e.Value.Pos.Line, e.Value.Pos.Column, "environment variable names are letters, digits and _", "invalid environment variable name %q", e.Name)
		}
	}
	return out
}

// namedValues decodes a mapping of names to templates (env:, outputs:).
func (p *loader) namedValues(n *yaml.Node, what string, sc *scope) []*NamedValue {
	return p.namedValuesBy(n, what, func(string) *scope { return sc })
}

// namedValuesBy is namedValues with each value compiled in scopeOf(its
// name).
func (p *loader) namedValuesBy(n *yaml.Node, what string, scopeOf func(name string) *scope) []*NamedValue {
	f := p.fields(n, what, nil)
	if f == nil {
		return nil
	}
	var out []*NamedValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		pair, ok := f[k.Value]
		if !ok || pair.key != k {
			continue
		}
		v := deref(pair.value)
		if v.Kind != yaml.ScalarNode {
			p.errorf(v.Line, v.Column, "write lists and maps with an expression, e.g. ${{ toJSON(x) }}", "%s value %q must be a scalar, not %s", what, k.Value, kindName(v))
			continue
		}
		out = append(out, &NamedValue{Name: k.Value, Value: p.template(v, scopeOf(k.Value), p.src)})
	}
	return out
}
