package lsp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"go.lsp.dev/jsonrpc2"
)

// maxFrame bounds one message body. The largest real message is a didOpen of a big file:
// 128 MiB holds a 20 MB file even if every byte were JSON-escaped as \u00XX.
const maxFrame = 128 << 20

// frameStream reads LSP base-protocol frames with bounded memory and writes them with
// go.lsp.dev/jsonrpc2's framer. It exists because jsonrpc2 v1.0.1's header stream
// allocates the declared Content-Length (up to 1 GiB) before reading a byte of the body,
// and keeps that buffer for the life of the connection; its limit cannot be configured.
// Here the body buffer grows only as bytes arrive, a body over maxFrame is read and
// dropped (answered by robustStream as a malformed message), and a buffer grown by a big
// frame is not kept.
type frameStream struct {
	in  *bufio.Reader
	out jsonrpc2.Stream // writes only
	buf bytes.Buffer
}

func newFrameStream(conn io.ReadWriteCloser) *frameStream {
	return &frameStream{in: bufio.NewReader(conn), out: jsonrpc2.NewHeaderStream(conn)}
}

// errFrameTooLarge wraps jsonrpc2.ErrInvalidHeader so robustStream answers it and goes on.
func errFrameTooLarge(n int64) error {
	return fmt.Errorf("%w: a message of %d bytes is over corels' limit of %d MiB", jsonrpc2.ErrInvalidHeader, n, maxFrame>>20)
}

// ReadFrame returns the next frame's body, valid until the next call.
func (s *frameStream) ReadFrame(ctx context.Context) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	length, header, err := s.readHeader()
	if err != nil {
		return nil, 0, err
	}
	if length > maxFrame {
		if _, err := io.CopyN(io.Discard, s.in, length); err != nil {
			return nil, 0, io.ErrUnexpectedEOF
		}
		return nil, 0, errFrameTooLarge(length)
	}
	if s.buf.Cap() > 1<<20 {
		s.buf = bytes.Buffer{} // a big frame's buffer is not kept for the small ones
	}
	s.buf.Reset()
	if _, err := io.CopyN(&s.buf, s.in, length); err != nil {
		return nil, 0, io.ErrUnexpectedEOF // a short body after a complete header
	}
	return s.buf.Bytes(), int64(header) + length, nil
}

// readHeader reads a header block: "Name: value" lines up to an empty line, of which
// only Content-Length (any case, required, positive) matters.
func (s *frameStream) readHeader() (length int64, consumed int, err error) {
	have := false
	var bad error // a malformed field: the block is still read to its end, to resynchronise
	for {
		line, err := s.in.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A header line longer than the reader's buffer is not a header.
			for err == bufio.ErrBufferFull {
				_, err = s.in.ReadSlice('\n')
			}
			if err != nil {
				return 0, 0, io.ErrUnexpectedEOF
			}
			bad = jsonrpc2.ErrInvalidHeader
			continue
		}
		if err != nil {
			if err == io.EOF && consumed == 0 && len(line) == 0 {
				return 0, 0, io.EOF // closed between frames
			}
			return 0, 0, io.ErrUnexpectedEOF
		}
		consumed += len(line)
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			bad = jsonrpc2.ErrInvalidHeader
			continue
		}
		if !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
			continue
		}
		n, ok := parseLength(bytes.TrimSpace(value))
		if !ok {
			bad = jsonrpc2.ErrInvalidHeader
			continue
		}
		length, have = n, true
	}
	if bad != nil || !have || length <= 0 {
		return 0, 0, jsonrpc2.ErrInvalidHeader
	}
	return length, consumed, nil
}

// parseLength parses a decimal length; lengths past 1<<40 are refused as nonsense (and
// so cannot overflow).
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// Read decodes the next frame.
func (s *frameStream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	body, n, err := s.ReadFrame(ctx)
	if err != nil {
		return nil, 0, err
	}
	msg, err := jsonrpc2.DecodeMessage(body)
	return msg, n, err
}

func (s *frameStream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	return s.out.Write(ctx, msg)
}

func (s *frameStream) WriteFrame(ctx context.Context, data []byte) (int64, error) {
	return s.out.(frameReadWriter).WriteFrame(ctx, data)
}

func (s *frameStream) Close() error { return s.out.Close() }
