package deploytest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Instruction is one Dockerfile instruction with its continuation lines joined.
type Instruction struct {
	Line    int    // where it starts, 1-based
	Cmd     string // upper case: FROM, RUN, COPY, ...
	Flags   []string
	Args    string // the rest, continuation backslashes removed
	RawArgs string
}

// Stage is a FROM and the instructions after it.
type Stage struct {
	From         string // the image
	Name         string // the AS name, "" when none
	Instructions []Instruction
}

// Find returns the stage's instructions of one kind.
func (s Stage) Find(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// ParseDockerfile reads the subset of Dockerfile syntax the project uses: comments, parser
// directives, instructions with backslash continuations and --flags. Heredocs are rejected
// rather than misread.
func ParseDockerfile(src []byte) ([]Stage, error) {
	var stages []Stage
	sc := bufio.NewScanner(bytes.NewReader(src))
	var cur strings.Builder
	start, n := 0, 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, rest, _ := strings.Cut(text, " ")
		in := Instruction{Line: start, Cmd: strings.ToUpper(cmd), RawArgs: strings.TrimSpace(rest)}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			var flag string
			flag, rest, _ = strings.Cut(rest, " ")
			in.Flags = append(in.Flags, flag)
			rest = strings.TrimSpace(rest)
		}
		in.Args = rest
		if strings.Contains(in.Args, "<<") && in.Cmd != "RUN" {
			return fmt.Errorf("line %d: heredocs are not supported", start)
		}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := Stage{}
			switch {
			case len(f) == 1:
				st.From = f[0]
			case len(f) == 3 && strings.EqualFold(f[1], "AS"):
				st.From, st.Name = f[0], f[2]
			default:
				return fmt.Errorf("line %d: FROM %q", start, in.Args)
			}
			stages = append(stages, st)
			return nil
		}
		if len(stages) == 0 {
			if in.Cmd == "ARG" {
				return nil // global build args before the first FROM
			}
			return fmt.Errorf("line %d: %s before FROM", start, in.Cmd)
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
		return nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments (and parser directives) never continue an instruction
		}
		if cur.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = n
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSpace(strings.TrimSuffix(trimmed, "\\")))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: instruction ends with a continuation", start)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return stages, sc.Err()
}

// ExecForm decodes a JSON-array argument (ENTRYPOINT ["/bin/x"]); ok is false for shell form.
func ExecForm(args string) (argv []string, ok bool) {
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		return nil, false
	}
	return argv, true
}

// ShellWords splits a shell command line into words the way sh does for the simple commands the
// Dockerfiles and the Makefile use: single and double quotes, backslash escapes, and the
// operators && and ; as words of their own. Variables are left unexpanded.
func ShellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == ';' || (c == '&' && i+1 < len(s) && s[i+1] == '&'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			if c == ';' {
				words = append(words, ";")
			} else {
				words = append(words, "&&")
				i++
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// Commands splits words at && and ; into simple commands.
func Commands(words []string) [][]string {
	var out [][]string
	var cur []string
	for _, w := range words {
		if w == "&&" || w == ";" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
