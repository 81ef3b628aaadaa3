package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func TestE2EOpenSeed(t *testing.T) {
	e := newEnv(t, envOptions{init: map[string]any{
		"kernels": []string{synthKernel(t, "5.14.0-synth")},
	}})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	t.Logf("diagnostics: %v", codes(p.Diagnostics))
	h := e.hover(u, posOf(t, text, "->dev", 0, 3))
	t.Logf("hover: %s", hoverText(h))
	if !strings.Contains(hoverText(h), "0:1") {
		t.Errorf("hover lacks access string")
	}
	_ = protocol.Position{}
	if err := e.exit(); err != nil {
		t.Fatal(err)
	}
}
