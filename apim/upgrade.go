package apim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Upgrade requests (WebSocket and any other HTTP/1.1 protocol switch) pass
// through: the inbound policies run on the handshake (authentication,
// rate limits, headers), forward-request sends it with its Connection and
// Upgrade headers, and when the backend answers 101 Switching Protocols the
// caller's connection is taken over and the bytes are copied both ways
// until either side closes or the tunnel is idle (Env.TunnelIdle, 10 min).
// (HTTP/2 callers cannot upgrade: WebSocket over HTTP/2 is not passed.)

// defaultTunnelIdle closes an upgraded connection that carried nothing
// either way for this long (Env.TunnelIdle overrides it).
const defaultTunnelIdle = 10 * time.Minute

// upgradeProtocol is the protocol an HTTP/1.1 request asks to switch to
// ("" when it does not ask).
func upgradeProtocol(r *http.Request) string {
	if r == nil || r.ProtoMajor != 1 {
		return ""
	}
	for _, c := range r.Header.Values("Connection") {
		for _, f := range strings.Split(c, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "upgrade") {
				return r.Header.Get("Upgrade")
			}
		}
	}
	return ""
}

// upgraded is the backend side of a switched connection.
type upgraded struct {
	conn   io.ReadWriteCloser
	cancel context.CancelFunc
}

// tunnel takes over the caller's connection, writes the 101 answer and
// copies bytes both ways. It returns when both directions are done.
func (x *Exec) tunnel(w http.ResponseWriter, reason string, header http.Header) {
	up := x.upgraded
	x.upgraded = nil
	defer up.close()
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		x.logger().Warn("apim: upgrade: the caller's connection cannot be taken over", "error", err.Error())
		return
	}
	defer client.Close()
	_ = client.SetDeadline(time.Time{}) // the server's request deadlines no longer apply
	if reason == "" {
		reason = "Switching Protocols"
	}
	fmt.Fprintf(buf, "HTTP/1.1 101 %s\r\n", reason)
	header.Write(buf)
	buf.WriteString("\r\n")
	if err := buf.Flush(); err != nil {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	d := defaultTunnelIdle
	if x.Env != nil && x.Env.TunnelIdle > 0 {
		d = x.Env.TunnelIdle
	}
	idle := newIdleTimer(d, func() { client.Close(); up.conn.Close() })
	defer idle.stop()
	go func() { // caller -> backend (bytes the server already buffered first)
		defer wg.Done()
		copyActive(up.conn, buf.Reader, idle)
		closeWrite(up.conn)
	}()
	go func() { // backend -> caller
		defer wg.Done()
		copyActive(client, up.conn, idle)
		closeWrite(client)
	}()
	wg.Wait()
}

func (u *upgraded) close() {
	u.conn.Close()
	u.cancel()
}

// copyActive copies src to dst, resetting the idle timer on every chunk.
func copyActive(dst io.Writer, src io.Reader, idle *idleTimer) {
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if n > 0 {
			idle.touch()
			if _, werr := dst.Write(b[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// closeWrite half-closes a connection when it can, else closes it.
func closeWrite(c any) {
	switch x := c.(type) {
	case interface{ CloseWrite() error }:
		_ = x.CloseWrite()
	case io.Closer:
		_ = x.Close()
	}
}

// idleTimer fires once nothing touched it for d.
type idleTimer struct {
	mu   sync.Mutex
	t    *time.Timer
	d    time.Duration
	last time.Time
}

func newIdleTimer(d time.Duration, fire func()) *idleTimer {
	it := &idleTimer{d: d, last: time.Now()}
	check := func() {
		it.mu.Lock()
		left := it.d - time.Since(it.last)
		if left > 0 {
			it.t.Reset(left)
			it.mu.Unlock()
			return
		}
		it.mu.Unlock()
		fire()
	}
	it.mu.Lock()
	it.t = time.AfterFunc(d, check)
	it.mu.Unlock()
	return it
}

func (it *idleTimer) touch() {
	it.mu.Lock()
	it.last = time.Now()
	it.mu.Unlock()
}

func (it *idleTimer) stop() { it.t.Stop() }
