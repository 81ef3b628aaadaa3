package lsp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func frameOf(body string) string {
	return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// Each case is the wire input and what successive ReadFrame calls return: a body, or an
// error (matched with errors.Is).
func TestFrameStream(t *testing.T) {
	msg := `{"jsonrpc":"2.0","method":"exit"}`
	huge := int64(maxFrame) + 1
	for _, tc := range []struct {
		name string
		in   io.Reader
		want []any
	}{
		{"one", strings.NewReader(frameOf(msg)), []any{msg, io.EOF}},
		{"content type and any case", strings.NewReader("content-LENGTH: 2\r\nContent-Type: x\r\n\r\n{}"), []any{"{}", io.EOF}},
		{"bare newlines", strings.NewReader("Content-Length: 2\n\n{}"), []any{"{}", io.EOF}},
		{"missing length", strings.NewReader("Content-Type: x\r\n\r\n" + frameOf(msg)), []any{jsonrpc2.ErrInvalidHeader, msg}},
		{"zero length", strings.NewReader("Content-Length: 0\r\n\r\n" + frameOf(msg)), []any{jsonrpc2.ErrInvalidHeader, msg}},
		{"not a number", strings.NewReader("Content-Length: 1e3\r\n\r\n"), []any{jsonrpc2.ErrInvalidHeader, io.EOF}},
		{"no colon", strings.NewReader("hello\r\n\r\n" + frameOf(msg)), []any{jsonrpc2.ErrInvalidHeader, msg}},
		{"nonsense length", strings.NewReader("Content-Length: 99999999999999999999\r\n\r\n"), []any{jsonrpc2.ErrInvalidHeader, io.EOF}},
		// A gigabyte declared, two bytes sent: nothing is allocated up front.
		{"declared not sent", strings.NewReader("Content-Length: 1073741824\r\n\r\n{}"), []any{io.ErrUnexpectedEOF}},
		{"truncated header", strings.NewReader("Content-Length: 2\r\n"), []any{io.ErrUnexpectedEOF}},
		{"long header line", strings.NewReader(strings.Repeat("x", 10000) + "\r\n\r\n" + frameOf(msg)), []any{jsonrpc2.ErrInvalidHeader, msg}},
		// Over the limit: read past, refused, and the next frame is read.
		{"over the limit", io.MultiReader(strings.NewReader("Content-Length: "+strconv.FormatInt(huge, 10)+"\r\n\r\n"),
			io.LimitReader(zeros{}, huge), strings.NewReader(frameOf(msg))), []any{jsonrpc2.ErrInvalidHeader, msg, io.EOF}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFrameStream(&stressRWC{r: tc.in})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i, want := range tc.want {
				body, _, err := fs.ReadFrame(context.Background())
				switch w := want.(type) {
				case string:
					if err != nil || string(body) != w {
						t.Fatalf("read %d: %q, %v; want %q", i, body, err, w)
					}
				case error:
					if !errors.Is(err, w) {
						t.Fatalf("read %d: %q, %v; want error %v", i, body, err, w)
					}
				}
			}
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Errorf("reading allocated %d MiB", grew>>20)
			}
		})
	}
}

// A frame over the limit is answered with an error response and the connection goes on.
func TestOversizedFrameAnswered(t *testing.T) {
	huge := int64(maxFrame) + 10
	in := io.MultiReader(strings.NewReader("Content-Length: "+strconv.FormatInt(huge, 10)+"\r\n\r\n"),
		io.LimitReader(zeros{}, huge), strings.NewReader(frameOf(`{"jsonrpc":"2.0","method":"exit"}`)))
	rwc := &stressRWC{r: in}
	rs := &robustStream{inner: newFrameStream(rwc), log: testLogger(t)}
	frame, _, err := rs.ReadFrame(context.Background())
	if err != nil || !bytes.Contains(frame, []byte("exit")) {
		t.Fatalf("after the oversized frame: %q, %v", frame, err)
	}
	if !bytes.Contains(rwc.out.Bytes(), []byte("over corels' limit of 128 MiB")) {
		t.Errorf("no error response for the oversized frame: %q", rwc.out.Bytes())
	}
}
