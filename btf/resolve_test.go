package btf

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cbtf "github.com/cilium/ebpf/btf"
)

// Local types, as a BPF program would declare them (flavors included).
var (
	tLong   = &cbtf.Int{Name: "long", Size: 8, Encoding: cbtf.Signed}
	tUint   = &cbtf.Int{Name: "unsigned int", Size: 4}
	tInt    = &cbtf.Int{Name: "int", Size: 4, Encoding: cbtf.Signed}
	tULong  = &cbtf.Int{Name: "unsigned long", Size: 8}
	tChar   = &cbtf.Int{Name: "char", Size: 1, Encoding: cbtf.Signed}
	tPid    = &cbtf.Fwd{Name: "pid", Kind: cbtf.FwdStruct}
	tIdx    = &cbtf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4}
	tListH  = &cbtf.Struct{Name: "list_head", Size: 16}
	tPidLnk = &cbtf.Struct{Name: "pid_link", Size: 24, Members: []cbtf.Member{
		{Name: "node", Type: tListH, Offset: 0},
		{Name: "pid", Type: &cbtf.Pointer{Target: tPid}, Offset: 128},
	}}

	localTaskOld = &cbtf.Struct{Name: "task_struct___old", Size: 8, Members: []cbtf.Member{
		{Name: "state", Type: tLong},
	}}
	localTaskNew = &cbtf.Struct{Name: "task_struct___new", Size: 4, Members: []cbtf.Member{
		{Name: "__state", Type: tUint},
	}}
	localMM = &cbtf.Struct{Name: "mm_struct", Size: 8, Members: []cbtf.Member{
		{Name: "total_vm", Type: tULong},
	}}
	// task_struct as an older vmlinux.h declares it.
	localTask = &cbtf.Struct{Name: "task_struct", Size: 112, Members: []cbtf.Member{
		{Name: "state", Type: tLong, Offset: 0},                                                       // 0
		{Name: "sched_remote_wakeup", Type: tUint, Offset: 64 + 3, BitfieldSize: 1},                   // 1
		{Name: "pids", Type: &cbtf.Array{Index: tIdx, Type: tPidLnk, Nelems: 8}, Offset: 128},         // 2
		{Name: "comm", Type: &cbtf.Array{Index: tIdx, Type: tChar, Nelems: 16}, Offset: 128 + 8*24*8}, // 3
		{Name: "tgid", Type: tInt, Offset: 96},                                                        // 4
		{Name: "mm", Type: &cbtf.Pointer{Target: localMM}, Offset: 64 * 0},                            // 5
		{Name: "flags", Type: &cbtf.Array{Index: tIdx, Type: tChar, Nelems: 4}, Offset: 96},           // 6
		{Name: "in_iowait", Type: tUint, Offset: 64 + 1, BitfieldSize: 1},                             // 7
		{Name: "thread_pid", Type: &cbtf.Pointer{Target: tPid}, Offset: 0},                            // 8
		{Name: "start_boottime", Type: &cbtf.Int{Name: "u64", Size: 8}, Offset: 0},                    // 9
		{Name: "comm_as_int", Type: tInt, Offset: 0},                                                  // 10
	}}
	localTimeval = &cbtf.Struct{Name: "timeval", Size: 16, Members: []cbtf.Member{
		{Name: "tv_sec", Type: tLong}, {Name: "tv_usec", Type: tLong, Offset: 64},
	}}
	localOldTimeval = &cbtf.Struct{Name: "__kernel_old_timeval", Size: 16, Members: []cbtf.Member{
		{Name: "tv_sec", Type: tLong}, {Name: "tv_usec", Type: tLong, Offset: 64},
	}}
	localOldTimevalInts = &cbtf.Struct{Name: "__kernel_old_timeval___ints", Size: 8, Members: []cbtf.Member{
		{Name: "tv_sec", Type: tInt}, {Name: "tv_usec", Type: tInt, Offset: 32},
	}}
	localMapType = &cbtf.Enum{Name: "bpf_map_type", Size: 4, Values: []cbtf.EnumValue{
		{Name: "BPF_MAP_TYPE_RINGBUF", Value: 27}, {Name: "BPF_MAP_TYPE_TASK_STORAGE", Value: 29},
		{Name: "BPF_MAP_TYPE_RINGBUFF", Value: 27},
	}}
	localAnon = &cbtf.Struct{Size: 8, Members: []cbtf.Member{{Name: "x", Type: tLong}}}
)

func init() {
	// comm_as_int pretends comm is an int: incompatible with char[16].
	localTask.Members[10].Name = "comm"
}

// TestResolveHistory runs relocations that meet real kernel history against
// the synthetic kernels and checks values, outcomes and the reasons given.
func TestResolveHistory(t *testing.T) {
	type want struct {
		outcome       Outcome
		local, target uint64
		poison        bool
		reason        string // substring
		path          string // target field path
	}
	tests := []struct {
		name   string
		relo   Relocation
		kernel string
		want   want
	}{
		{"state on 4.18", Relocation{FieldByteOffset, localTask, "0:0", 0}, "4.18.0-synth",
			want{outcome: Resolved, local: 0, target: 0, path: "task_struct.state"}},
		{"state gone in 5.14", Relocation{FieldByteOffset, localTask, "0:0", 0}, "5.14.0-synth",
			want{outcome: NotFound, poison: true, reason: "type `task_struct` has no member `state` in 5.14.0-synth — members with close names: `__state`"}},
		{"state exists on 5.14", Relocation{FieldExists, localTask, "0:0", 0}, "5.14.0-synth",
			want{outcome: NotFound, local: 1, target: 0, reason: "no member `state`"}},
		{"flavor ___new on 5.14", Relocation{FieldByteOffset, localTaskNew, "0:0", 0}, "5.14.0-synth",
			want{outcome: Resolved, path: "task_struct.__state"}},
		{"flavor ___new exists on 5.10", Relocation{FieldExists, localTaskNew, "0:0", 0}, "5.10.0-synth",
			want{outcome: NotFound, local: 1, target: 0, reason: "members with close names: `state`"}},
		{"flavor ___old on 5.10", Relocation{FieldByteSize, localTaskOld, "0:0", 0}, "5.10.0-synth",
			want{outcome: Resolved, local: 8, target: 8, path: "task_struct.state"}},
		{"__state size", Relocation{FieldByteSize, localTaskNew, "0:0", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 4, target: 4}},
		{"removed field pids on 4.18", Relocation{FieldByteOffset, localTask, "0:2:1:1", 0}, "4.18.0-synth",
			want{outcome: Resolved, local: 16 + 24 + 16, target: 56 + 24 + 16, path: "task_struct.pids[1].pid"}},
		{"removed field pids on 5.10", Relocation{FieldByteOffset, localTask, "0:2:1:1", 0}, "5.10.0-synth",
			want{outcome: NotFound, poison: true, reason: "no member `pids`"}},
		{"array index out of kernel bounds", Relocation{FieldByteOffset, localTask, "0:2:5", 0}, "4.18.0-synth",
			want{outcome: NotFound, poison: true, reason: "index 5 is out of bounds: `task_struct.pids` has 3 elements"}},
		{"array element", Relocation{FieldByteOffset, localTask, "0:3:3", 0}, "4.18.0-synth",
			want{outcome: Resolved, local: 16 + 8*24 + 3, target: 128 + 3, path: "task_struct.comm[3]"}},
		{"root pointer index", Relocation{FieldByteOffset, localTask, "2:4", 0}, "5.10.0-synth",
			want{outcome: Resolved, local: 2*112 + 12, target: 2*96 + 44, path: "task_struct[2].tgid"}},
		{"incompatible member types", Relocation{FieldByteOffset, localTask, "0:10", 0}, "5.10.0-synth",
			want{outcome: NotFound, poison: true, reason: "incompatible types: local `task_struct.comm` is int, 5.10.0-synth's is char[16]"}},
		{"bitfield moved: byte_off", Relocation{FieldByteOffset, localTask, "0:1", 0}, "5.10.0-synth",
			want{outcome: Resolved, local: 8, target: 20, path: "task_struct.sched_remote_wakeup"}},
		{"bitfield moved: byte_off 5.14", Relocation{FieldByteOffset, localTask, "0:1", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 8, target: 24}},
		{"bitfield lshift 5.10", Relocation{FieldLShiftU64, localTask, "0:1", 0}, "5.10.0-synth",
			want{outcome: Resolved, local: 0, target: 64 - 3 - 1}},
		{"bitfield lshift 5.14", Relocation{FieldLShiftU64, localTask, "0:1", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 0, target: 63}},
		{"bitfield rshift", Relocation{FieldRShiftU64, localTask, "0:1", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 0, target: 63}},
		{"bitfield signed", Relocation{FieldSigned, localTask, "0:1", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 0, target: 0}},
		{"bitfield byte_sz", Relocation{FieldByteSize, localTask, "0:7", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 4, target: 4}},
		{"signed long", Relocation{FieldSigned, localTaskOld, "0:0", 0}, "4.18.0-synth",
			want{outcome: Resolved, local: 1, target: 1}},
		{"descend into bitfield fails the load", Relocation{FieldByteOffset, localTask, "0:1:0", 0}, "5.14.0-synth",
			want{outcome: Failed, reason: "can't descend into bitfield"}},
		{"field through anonymous struct", Relocation{FieldByteOffset, localMM, "0:0", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 0, target: 8, path: "mm_struct.total_vm"}},
		{"ambiguous candidates", Relocation{FieldByteOffset, localMM, "0:0", 0}, "9.9.0-synth-dup",
			want{outcome: Failed, reason: "ambiguous: 2 candidate types named `mm_struct` in 9.9.0-synth-dup match with different offsets (8 and 0)"}},
		{"ambiguous but same size", Relocation{FieldByteSize, localMM, "0:0", 0}, "9.9.0-synth-dup",
			want{outcome: Resolved, local: 8, target: 8}},
		{"renamed struct missing", Relocation{TypeExists, localOldTimeval, "0", 0}, "4.18.0-synth",
			want{outcome: NotFound, local: 1, target: 0, reason: "no type named `__kernel_old_timeval` in 4.18.0-synth"}},
		{"renamed struct present", Relocation{TypeSize, localOldTimeval, "0", 0}, "5.10.0-synth",
			want{outcome: Resolved, local: 16, target: 16}},
		{"old name gone", Relocation{TypeSize, localTimeval, "0", 0}, "5.14.0-synth",
			want{outcome: NotFound, poison: true, reason: "no type named `timeval` in 5.14.0-synth"}},
		{"type matches", Relocation{TypeMatches, localOldTimeval, "0", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 1, target: 1}},
		{"type does not match (int vs long)", Relocation{TypeMatches, localOldTimevalInts, "0", 0}, "5.14.0-synth",
			want{outcome: NotFound, local: 1, target: 0, reason: "types do not match: `__kernel_old_timeval___ints.tv_sec` is int locally, long in 5.14.0-synth"}},
		{"target type id", Relocation{TypeIDTarget, localTimeval, "0", 7}, "4.18.0-synth",
			want{outcome: Resolved, local: 7}},
		{"local type id", Relocation{TypeIDLocal, localTimeval, "0", 7}, "5.14.0-synth",
			want{outcome: Resolved, local: 7, target: 7}},
		{"enum value added later", Relocation{EnumvalExists, localMapType, "0", 0}, "4.18.0-synth",
			want{outcome: NotFound, local: 1, target: 0, reason: "enum `bpf_map_type` has no value `BPF_MAP_TYPE_RINGBUF` in 4.18.0-synth"}},
		{"enum value present", Relocation{EnumvalValue, localMapType, "1", 0}, "5.14.0-synth",
			want{outcome: Resolved, local: 29, target: 29}},
		{"enum value missing poisons", Relocation{EnumvalValue, localMapType, "1", 0}, "5.10.0-synth",
			want{outcome: NotFound, poison: true, reason: "no value `BPF_MAP_TYPE_TASK_STORAGE`"}},
		{"enum value close name", Relocation{EnumvalExists, localMapType, "2", 0}, "5.10.0-synth",
			want{outcome: NotFound, local: 1, reason: "values with close names: `BPF_MAP_TYPE_RINGBUF`"}},
		{"anonymous local type", Relocation{FieldByteOffset, localAnon, "0:0", 0}, "5.14.0-synth",
			want{outcome: Failed, reason: "anonymous type"}},
		{"bad accessor", Relocation{FieldByteOffset, localTask, "0:x", 0}, "5.14.0-synth",
			want{outcome: Failed, reason: "invalid access string"}},
		{"accessor past the members", Relocation{FieldByteOffset, localTask, "0:99", 0}, "5.14.0-synth",
			want{outcome: Failed, reason: "invalid accessor 99"}},
		{"type relocation with field accessor", Relocation{TypeSize, localTimeval, "0:1", 0}, "4.18.0-synth",
			want{outcome: Failed, reason: "unexpected accessor"}},
		{"missing type has suggestions", Relocation{FieldByteOffset, &cbtf.Struct{Name: "task_strct", Size: 8, Members: []cbtf.Member{{Name: "x", Type: tLong}}}, "0:0", 0}, "5.14.0-synth",
			want{outcome: NotFound, poison: true, reason: "no type named `task_strct` in 5.14.0-synth — types with close names: `task_struct`"}},
		{"forward declaration only", Relocation{FieldByteOffset, &cbtf.Struct{Name: "opaque", Size: 8, Members: []cbtf.Member{{Name: "x", Type: tLong}}}, "0:0", 0}, "9.9.0-synth-dup",
			want{outcome: NotFound, poison: true, reason: "`opaque` is only a forward declaration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kernelByName(t, tt.kernel)
			got := Resolve(tt.relo, k)
			if got.Outcome != tt.want.outcome {
				t.Fatalf("outcome %s, want %s (%s; reason %q)", got.Outcome, tt.want.outcome, got, got.Reason)
			}
			if got.Poison != tt.want.poison {
				t.Errorf("poison %v, want %v", got.Poison, tt.want.poison)
			}
			if got.Outcome != Failed {
				if got.Local != tt.want.local || (tt.want.target != 0 || tt.relo.Kind != TypeIDTarget) && got.Target != tt.want.target {
					t.Errorf("values %d->%d, want %d->%d", got.Local, got.Target, tt.want.local, tt.want.target)
				}
			}
			if tt.relo.Kind == TypeIDTarget && got.Outcome == Resolved {
				if id, _ := k.Spec.TypeID(got.TargetType); uint64(id) != got.Target || got.TargetTypeID != id {
					t.Errorf("target type id %d, type's id %d", got.Target, id)
				}
			}
			if !strings.Contains(got.Reason, tt.want.reason) {
				t.Errorf("reason %q\nwant it to contain %q", got.Reason, tt.want.reason)
			}
			if tt.want.reason == "" && got.Reason != "" {
				t.Errorf("unexpected reason %q", got.Reason)
			}
			if tt.want.path != "" && (got.TargetField == nil || got.TargetField.Path != tt.want.path) {
				t.Errorf("target field %+v, want path %s", got.TargetField, tt.want.path)
			}
		})
	}
}

func TestKindNames(t *testing.T) {
	want := []string{"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
		"local_type_id", "target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches"}
	for i, name := range want {
		if got := Kind(i).String(); got != name {
			t.Errorf("Kind(%d) = %s, want %s", i, got, name)
		}
		if k, err := ParseKind(name); err != nil || k != Kind(i) {
			t.Errorf("ParseKind(%s) = %d, %v", name, k, err)
		}
	}
	if Kind(13).String() != "unknown (13)" {
		t.Error(Kind(13).String())
	}
}

// TestResolveRealKernels checks well-known facts on the real kernels.
func TestResolveRealKernels(t *testing.T) {
	for _, k := range realKernels(t) {
		t.Run(k.Name, func(t *testing.T) {
			newState := Resolve(Relocation{FieldExists, localTaskNew, "0:0", 0}, k)
			oldState := Resolve(Relocation{FieldExists, localTaskOld, "0:0", 0}, k)
			// The flavor idiom: exactly one of state (< 5.14) and __state
			// (>= 5.14) exists.
			if newState.Target+oldState.Target != 1 {
				t.Errorf("state: %s, __state: %s", oldState, newState)
			}
			if k.Path != SysfsVmlinux {
				// cilium's 6.x and Debian's 6.1 have __state.
				off := Resolve(Relocation{FieldByteOffset, localTaskNew, "0:0", 0}, k)
				if off.Outcome != Resolved || off.TargetField.Path != "task_struct.__state" {
					t.Errorf("__state: %s %s", off, off.Reason)
				}
				if !strings.Contains(oldState.Reason, "members with close names: `__state`") {
					t.Errorf("state reason: %q", oldState.Reason)
				}
			}
			mm := Resolve(Relocation{FieldByteSize, localMM, "0:0", 0}, k)
			if mm.Outcome != Resolved || mm.Target != 8 {
				t.Errorf("mm_struct.total_vm: %s %s", mm, mm.Reason)
			}
		})
	}
}

// TestResolveConcurrent resolves from several goroutines against a freshly
// loaded kernel (types inflate lazily inside cilium's decoder); run with
// -race.
func TestResolveConcurrent(t *testing.T) {
	ks, err := LoadFile(filepath.Join(repoRoot(), "testdata/kernels/5.14.0-synth.btf.o"))
	if err != nil {
		t.Fatal(err)
	}
	_, rs, err := objectRelocations(filepath.Join(repoRoot(), "testdata/kernels/probe/history.o"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(rs))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, r := range rs {
				got := Resolve(r.ours, ks[0]).String()
				if g == 0 {
					want[i] = got
				}
			}
		}()
	}
	wg.Wait()
	for i, r := range rs {
		if got := Resolve(r.ours, ks[0]).String(); got != want[i] {
			t.Errorf("%s: %s then %s", r.where, want[i], got)
		}
	}
}
