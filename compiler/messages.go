package compiler

import (
	"regexp"
	"strings"
)

// clangWording rewrites an error of cc/v4 in clang's words where the two differ in a way
// that matters to the reader. cc prints a record type with all its members: "type struct
// task_struct {thread_info struct thread_info; __state uint; ...} has no member named
// tg" is a few kilobytes long, and the common mistake of typing a member's name. clang
// says "no member named 'tg' in 'struct task_struct'".
//
// It also makes a message independent of the members of the records it names, which a
// compile of one function body relies on (slim.go): it may be given a record with some
// members' types replaced, and must report what a compile of the whole file reports.
func clangWording(msg string) string {
	msg = shortRecords(msg)
	if m := noMember.FindStringSubmatch(msg); m != nil {
		return "no member named '" + m[2] + "' in '" + m[1] + "'"
	}
	return msg
}

var noMember = regexp.MustCompile(`^type ([^{}]+) has no member named ([A-Za-z_][A-Za-z0-9_]*)$`)

// shortRecords replaces every `struct T {...}` and `union T {...}` of a message by its
// name; one without a tag becomes `struct (anonymous)`.
func shortRecords(msg string) string {
	if !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		kw := ""
		if i == 0 || !isIdentByte(msg[i-1]) {
			for _, k := range []string{"struct ", "union "} {
				if strings.HasPrefix(msg[i:], k) {
					kw = k
				}
			}
		}
		if kw == "" {
			b.WriteByte(msg[i])
			i++
			continue
		}
		j := i + len(kw)
		tag := j
		for j < len(msg) && isIdentByte(msg[j]) {
			j++
		}
		name := msg[tag:j]
		if !strings.HasPrefix(msg[j:], " {") && !(name == "" && strings.HasPrefix(msg[j:], "{")) {
			b.WriteString(msg[i:j])
			i = j
			continue
		}
		open := strings.IndexByte(msg[j:], '{') + j
		end := matchingBrace(msg, open)
		if end < 0 {
			b.WriteString(msg[i:])
			break
		}
		if name == "" {
			name = "(anonymous)"
		}
		b.WriteString(kw + name)
		i = end + 1
	}
	return b.String()
}

// matchingBrace is the index of the '}' that closes the '{' at open, -1 if none does.
func matchingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
