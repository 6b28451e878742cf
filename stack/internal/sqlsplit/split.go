// Package sqlsplit splits SQL (MySQL/MariaDB) and CQL (Cassandra) script files into single
// statements, so that they can be sent one by one through drivers that accept one statement per
// call.
//
// Statements end at a semicolon outside quotes and comments. Comments (`-- …`, `# …` in SQL,
// `// …` in CQL, `/* … */` in both) are dropped unless they sit inside a statement, where they are
// kept verbatim; quoted text ('…', "…", `…`, and CQL's $$…$$) is kept as is, including semicolons
// and escaped quotes. Blank statements are dropped. DELIMITER commands are not supported.
package sqlsplit

import "strings"

// Dialect selects the comment and quoting rules.
type Dialect int

const (
	// MySQL: '-- ' and '#' line comments, backslash escapes in quotes, backtick identifiers.
	MySQL Dialect = iota
	// CQL: '--' and '//' line comments, doubled quotes as escapes, $$ string literals.
	CQL
)

// Split returns the statements of src in order, each trimmed and without its final semicolon.
func Split(src string, d Dialect) []string {
	var (
		out  []string
		cur  strings.Builder
		i    int
		n    = len(src)
		flag = func() {
			s := strings.TrimSpace(cur.String())
			if s != "" {
				out = append(out, s)
			}
			cur.Reset()
		}
	)
	for i < n {
		c := src[i]
		switch {
		case c == ';':
			flag()
			i++
		case c == '\'' || c == '"' || (c == '`' && d == MySQL):
			j := scanQuoted(src, i, c, d == MySQL)
			cur.WriteString(src[i:j])
			i = j
		case d == CQL && c == '$' && i+1 < n && src[i+1] == '$':
			j := strings.Index(src[i+2:], "$$")
			if j < 0 {
				j = n
			} else {
				j = i + 2 + j + 2
			}
			cur.WriteString(src[i:j])
			i = j
		case isLineComment(src, i, d):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = n
			} else {
				j += i
			}
			keepComment(&cur, src[i:j])
			i = j
		case c == '/' && i+1 < n && src[i+1] == '*':
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				j = n
			} else {
				j = i + 2 + j + 2
			}
			keepComment(&cur, src[i:j])
			i = j
		default:
			cur.WriteByte(c)
			i++
		}
	}
	flag()
	return out
}

// keepComment keeps a comment only when it sits inside a statement (text already collected);
// a comment before a statement is dropped so that statements start with their keyword.
func keepComment(cur *strings.Builder, comment string) {
	if strings.TrimSpace(cur.String()) == "" {
		cur.Reset()
		return
	}
	cur.WriteString(comment)
}

func isLineComment(src string, i int, d Dialect) bool {
	c := src[i]
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	switch d {
	case MySQL:
		if c == '#' {
			return true
		}
		// MySQL needs whitespace (or end of input) after "--".
		if c == '-' && next == '-' {
			return i+2 >= len(src) || src[i+2] == ' ' || src[i+2] == '\t' || src[i+2] == '\n' || src[i+2] == '\r'
		}
	case CQL:
		return (c == '-' && next == '-') || (c == '/' && next == '/')
	}
	return false
}

// scanQuoted returns the index just past the quoted text that starts at src[i] with quote q.
// A doubled quote is an escaped quote; with backslash escapes, `\x` is skipped too.
// An unterminated quote runs to the end of src.
func scanQuoted(src string, i int, q byte, backslash bool) int {
	j := i + 1
	for j < len(src) {
		switch src[j] {
		case '\\':
			if backslash && q != '`' {
				j += 2
				continue
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(src)
}
