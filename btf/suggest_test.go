package btf

import (
	"slices"
	"testing"
)

func TestCloseNames(t *testing.T) {
	tests := []struct {
		name       string
		candidates []string
		want       []string
	}{
		{"state", []string{"stats", "__state", "stack", "pid", "exit_state"}, []string{"__state", "stats", "stack"}},
		{"task_strct", []string{"task_struct", "task_group", "mm_struct"}, []string{"task_struct"}},
		{"total_vm", []string{"total_vm_x", "locked_vm", "pgd"}, []string{"total_vm_x"}},
		{"pids", []string{"pid", "tgid", "thread_pid"}, []string{"pid"}},
		{"nothing_alike", []string{"abc", "xyz"}, nil},
	}
	for _, tt := range tests {
		if got := closeNames(tt.name, tt.candidates, 3); !slices.Equal(got, tt.want) {
			t.Errorf("closeNames(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if d := levenshtein("kitten", "sitting", 5); d != 3 {
		t.Errorf("levenshtein = %d", d)
	}
	if d := levenshtein("a", "abcdef", 2); d != 3 {
		t.Errorf("levenshtein past limit = %d", d)
	}
}
