package spec

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowrun/flowrun/internal/term"
)

// Graph formats.
const (
	GraphMermaid = "mermaid"
	GraphDOT     = "dot"
)

// Graph writes the plan's DAG as a Mermaid flowchart or a Graphviz DOT
// digraph. Explicit dependencies (needs:) are solid edges, inferred ones
// dashed; a parallel step's label carries its fan-out.
func (p *Plan) Graph(w io.Writer, format string) error {
	switch format {
	case GraphMermaid, "":
		p.mermaid(w)
	case GraphDOT:
		p.dot(w)
	default:
		return fmt.Errorf("unknown graph format %q: want mermaid or dot", format)
	}
	return nil
}

// label is a node's text: id, type and fan-out, and its condition, as
// lines joined by newline. The parts that come from the file are made
// plain first (graphText).
func (s PlanStep) label(newline string) string {
	l := s.ID + newline + graphText(s.Type, newline)
	if s.Uses != "" {
		l = s.ID + newline + "uses " + graphText(s.Uses, newline)
	}
	if b := s.Parallel; b != nil {
		if b.Items != nil {
			l += fmt.Sprintf(" ×%d", *b.Items)
		} else {
			l += " ×N"
		}
	}
	if s.If != "" {
		l += newline + "if " + graphText(s.If, newline)
	}
	return l
}

// graphText makes text from the workflow fit for a graph's label: no raw
// control character reaches a Mermaid or DOT file, whoever renders or
// prints it. A newline becomes newline (the label's own line break), a
// tab a space, and any other control or bidirectional character is
// written out as <U+XXXX> (term.Escape).
func graphText(s, newline string) string {
	s = term.Escape(strings.ReplaceAll(s, "\t", " "))
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", newline)
}

// mermaidID keeps a step id from reading as a Mermaid keyword: a node
// named end closes a subgraph.
func mermaidID(id string) string {
	switch strings.ToLower(id) {
	case "end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle", "direction", "default":
		return id + "_"
	}
	return id
}

// mermaidText escapes text for a quoted Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

func (p *Plan) mermaid(w io.Writer) {
	fmt.Fprintln(w, "flowchart TD")
	node := func(s PlanStep) {
		open, close := "[", "]"
		if s.Parallel != nil {
			open, close = "[[", "]]"
		}
		fmt.Fprintf(w, "  %s%s\"%s\"%s\n", mermaidID(s.ID), open, strings.ReplaceAll(mermaidText(s.label("\x00")), "\x00", "<br/>"), close)
	}
	edges := func(s PlanStep) {
		for _, d := range s.Needs {
			arrow := "-.->"
			if d.Explicit {
				arrow = "-->"
			}
			fmt.Fprintf(w, "  %s %s %s\n", mermaidID(d.ID), arrow, mermaidID(s.ID))
		}
	}
	p.render(node, edges, func(open bool) {
		if open {
			fmt.Fprintln(w, "  subgraph finally")
		} else {
			fmt.Fprintln(w, "  end")
		}
	})
}

// dotText escapes text for a quoted DOT string.
func dotText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func (p *Plan) dot(w io.Writer) {
	name := p.Name
	if name == "" {
		name = "workflow"
	}
	fmt.Fprintf(w, "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box];\n", dotText(graphText(name, " ")))
	node := func(s PlanStep) {
		shape := ""
		if s.Parallel != nil {
			shape = ", shape=box3d"
		}
		fmt.Fprintf(w, "  %q [label=\"%s\"%s];\n", s.ID, strings.ReplaceAll(dotText(s.label("\x00")), "\x00", `\n`), shape)
	}
	edges := func(s PlanStep) {
		for _, d := range s.Needs {
			style := " [style=dashed]"
			if d.Explicit {
				style = ""
			}
			fmt.Fprintf(w, "  %q -> %q%s;\n", d.ID, s.ID, style)
		}
	}
	indent := ""
	p.render(func(s PlanStep) { fmt.Fprint(w, indent); node(s) }, edges, func(open bool) {
		if open {
			fmt.Fprintln(w, "  subgraph cluster_finally {\n    label=\"finally\";")
			indent = "  "
		} else {
			fmt.Fprintln(w, "  }")
			indent = ""
		}
	})
	fmt.Fprintln(w, "}")
}

// render walks the plan in the order both graph formats write it: the
// main steps' nodes level by level, the finally steps' nodes inside a
// group that finallyGroup opens and closes, then every step's edges.
func (p *Plan) render(node, edges func(PlanStep), finallyGroup func(open bool)) {
	for _, level := range p.Levels {
		for _, s := range level {
			node(s)
		}
	}
	if len(p.Finally) > 0 {
		finallyGroup(true)
		for _, s := range p.Finally {
			node(s)
		}
		finallyGroup(false)
	}
	for _, level := range p.Levels {
		for _, s := range level {
			edges(s)
		}
	}
	for _, s := range p.Finally {
		edges(s)
	}
}
