package testutil

import "io"

// PaddedJSON is a reader of exactly n bytes (n >= 21) of one JSON document,
// {"name":"x","pad":"aaa..."}, made as it is read: tests send bodies of
// many megabytes without holding them.
func PaddedJSON(n int) io.Reader { return &paddedJSON{n: n} }

type paddedJSON struct{ n, off int }

func (b *paddedJSON) Read(p []byte) (int, error) {
	const head = `{"name":"x","pad":"`
	if b.off >= b.n {
		return 0, io.EOF
	}
	i := 0
	for ; i < len(p) && b.off < b.n; i, b.off = i+1, b.off+1 {
		switch {
		case b.off < len(head):
			p[i] = head[b.off]
		case b.off >= b.n-2:
			p[i] = `"}`[b.off-(b.n-2)]
		default:
			p[i] = 'a'
		}
	}
	return i, nil
}
