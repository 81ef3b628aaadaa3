package analysis

import (
	"testing"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// compiler and btf each number the CO-RE relocation kinds (btf must not import
// compiler); analysis converts between them by number, so the two must agree on every
// number and name, and have the same count.
func TestKindTablesAgree(t *testing.T) {
	n := 0
	for k := compiler.Kind(0); k < 64; k++ {
		if _, ok := compiler.ParseKind(k.String()); !ok {
			break
		}
		n++
		if got := btf.Kind(k).String(); got != k.String() {
			t.Errorf("kind %d: compiler says %q, btf %q", k, k, got)
		}
		if k.IsField() != btf.Kind(k).IsField() || k.IsType() != btf.Kind(k).IsType() {
			t.Errorf("kind %d (%s): field/type classes differ", k, k)
		}
	}
	if n != 13 {
		t.Errorf("%d kinds in compiler, want 13", n)
	}
	if _, err := btf.ParseKind(btf.Kind(n).String()); err == nil {
		t.Errorf("btf has a kind %d (%s) that compiler has not", n, btf.Kind(n))
	}
}
