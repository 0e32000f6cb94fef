package spec

import (
	"strings"
)

// shellQuoting is where a shell script stands while it is read, as far as
// expansion goes: a ${NAME} reference is expanded in plain text, double
// quotes, $( ) and unquoted here-documents, and left as it is in single
// quotes, $'...', comments and here-documents whose delimiter is quoted.
type shellQuoting int

const (
	shPlain shellQuoting = iota
	shDouble
	shSingle
	shANSI    // $'...'
	shComment // # to the end of the line
	shHeredoc // the body of a here-document, until its delimiter line
)

// shellLexer follows a script's quoting one byte at a time. It knows
// enough of the POSIX shell for the question it answers — is an
// expression here expanded? — and no more: nested $( ) and `...`,
// backslash escapes, comments and here-documents.
type shellLexer struct {
	stack []shellQuoting // innermost last; $( ) and `...` push shPlain
	// parens counts the open ( of each $( ) level, to find its end.
	parens []int
	// heredocs are the delimiters of here-documents whose bodies start
	// at the next line; quoted tells whether each expands nothing.
	heredocs []heredoc
	body     *heredoc // the here-document being read
	line     strings.Builder
	escaped  bool
	wordLen  int // bytes of the current word, for # and <<
	prev     byte
	angles   int // consecutive <, to tell << from <<<
}

type heredoc struct {
	delim  string
	quoted bool
	strip  bool // <<-: leading tabs before the delimiter
}

func (l *shellLexer) top() shellQuoting {
	if len(l.stack) == 0 {
		return shPlain
	}
	return l.stack[len(l.stack)-1]
}

func (l *shellLexer) push(q shellQuoting) { l.stack = append(l.stack, q) }

func (l *shellLexer) pop() {
	if len(l.stack) > 1 {
		l.stack = l.stack[:len(l.stack)-1]
	}
}

// expands reports whether a ${NAME} reference written at this point would
// be expanded by the shell.
func (l *shellLexer) expands() bool {
	switch l.top() {
	case shSingle, shANSI, shComment:
		return false
	case shHeredoc:
		return !l.body.quoted
	}
	return true
}

// reference feeds a ${NAME} reference, which an expression becomes.
func (l *shellLexer) reference() {
	l.escaped = false
	l.wordLen++
	l.prev = '}'
	if l.top() == shHeredoc {
		l.line.WriteString("${}")
	}
}

// feed reads text of the script.
func (l *shellLexer) feed(s string) {
	if len(l.stack) == 0 {
		l.stack = []shellQuoting{shPlain}
		l.parens = []int{0}
	}
	for i := 0; i < len(s); i++ {
		l.byte(s, i)
	}
}

func (l *shellLexer) byte(s string, i int) {
	c := s[i]
	defer func() { l.prev = c }()
	switch l.top() {
	case shHeredoc:
		if c != '\n' {
			l.line.WriteByte(c)
			return
		}
		text := l.line.String()
		l.line.Reset()
		if l.body.strip {
			text = strings.TrimLeft(text, "\t")
		}
		if text == l.body.delim {
			l.pop()
			l.startHeredoc()
		}
		return
	case shComment:
		if c == '\n' {
			l.pop()
			l.newline()
		}
		return
	case shSingle:
		if c == '\'' {
			l.pop()
		}
		return
	case shANSI:
		switch {
		case l.escaped:
			l.escaped = false
		case c == '\\':
			l.escaped = true
		case c == '\'':
			l.pop()
		}
		return
	}
	if l.escaped {
		l.escaped = false
		l.wordLen++
		return
	}
	double := l.top() == shDouble
	switch {
	case c == '\\':
		l.escaped = true
	case c == '"' && double:
		l.pop()
	case c == '"':
		l.push(shDouble)
	case c == '`' && double:
		l.push(shPlain)
		l.parens = append(l.parens, -1) // ends at the next backquote
	case c == '`' && len(l.parens) > 1 && l.parens[len(l.parens)-1] == -1:
		l.pop()
		l.parens = l.parens[:len(l.parens)-1]
	case c == '`':
		l.push(shPlain)
		l.parens = append(l.parens, -1)
	case c == '(' && l.prev == '$':
		l.push(shPlain)
		l.parens = append(l.parens, 0)
	case double:
	case c == '\'' && l.prev == '$':
		l.push(shANSI)
	case c == '\'':
		l.push(shSingle)
	case c == '(':
		l.parens[len(l.parens)-1]++
	case c == ')' && len(l.parens) > 1 && l.parens[len(l.parens)-1] == 0:
		l.pop()
		l.parens = l.parens[:len(l.parens)-1]
	case c == ')':
		l.parens[len(l.parens)-1]--
	case c == '#' && l.wordLen == 0:
		l.push(shComment)
	case c == '<':
		l.angles++
		if l.angles == 2 && (i+1 >= len(s) || s[i+1] != '<') {
			l.heredoc(s, i+1) // << but not the here-string <<<
		}
	case c == '\n':
		l.newline()
	}
	if c != '<' {
		l.angles = 0
	}
	if c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' {
		l.wordLen = 0
	} else {
		l.wordLen++
	}
}

// heredoc notes the here-document whose operator << ends before s[i]:
// its delimiter word, and whether quoting it turns expansion off.
func (l *shellLexer) heredoc(s string, i int) {
	h := heredoc{}
	if i < len(s) && s[i] == '-' {
		h.strip = true
		i++
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	var word strings.Builder
	for ; i < len(s) && !strings.ContainsRune(" \t\n;&|<>()", rune(s[i])); i++ {
		switch s[i] {
		case '\'', '"', '\\':
			h.quoted = true
		default:
			word.WriteByte(s[i])
		}
	}
	if h.delim = word.String(); h.delim != "" {
		l.heredocs = append(l.heredocs, h)
	}
}

// newline starts the body of a pending here-document, if any.
func (l *shellLexer) newline() {
	l.wordLen = 0
	l.startHeredoc()
}

func (l *shellLexer) startHeredoc() {
	if len(l.heredocs) == 0 {
		return
	}
	h := l.heredocs[0]
	l.heredocs = l.heredocs[1:]
	l.body = &h
	l.push(shHeredoc)
}

// checkShellQuotes reports an expression in a shell script where the
// shell will not expand it: inside single quotes, $'...', a comment or a
// here-document with a quoted delimiter, the reference ${FLOWRUN_EXPR_n}
// that carries its value would stay as it is, silently.
func (p *loader) checkShellQuotes(t *Template) {
	var l shellLexer
	for _, part := range t.parts {
		if part.expr == nil {
			l.feed(part.text)
			continue
		}
		if !l.expands() {
			x := part.expr
			where, fix := "inside single quotes", "write \"${{ "+strings.TrimSpace(x.Source)+" }}\" in double quotes, or without quotes"
			switch l.top() {
			case shANSI:
				where = "inside $'...'"
			case shComment:
				where, fix = "in a comment", "remove it from the comment"
			case shHeredoc:
				where, fix = "in a here-document whose delimiter is quoted", "leave the delimiter unquoted (<<EOF)"
			}
			line, col := x.Pos.Line, x.Pos.Column
			if x.node != nil && x.valueOff >= 3 {
				line, col = valuePos(x.node, x.valueOff-3, x.src) // at the ${{
			}
			p.errorf(line, col, fix+": the value reaches the shell as an environment variable, never as code, so no quotes are needed to keep it safe",
				"the shell does not expand this expression %s: the script would see the text ${FLOWRUN_EXPR_n}, not the value", where)
		}
		l.feed("") // make sure the lexer is initialised
		l.reference()
	}
}
