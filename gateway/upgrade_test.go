package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// upgradeBackend answers an Upgrade request with 101 and then upper-cases
// every byte it receives, as a WebSocket echo server would (framing is
// the two ends' business: the gateway passes bytes).
func upgradeBackend(t *testing.T, handshake chan<- http.Header) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "no upgrade", 400)
			return
		}
		handshake <- r.Header.Clone()
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
		buf.Flush()
		b := make([]byte, 1024)
		for {
			n, err := buf.Read(b)
			if n > 0 {
				conn.Write(bytes.ToUpper(b[:n]))
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// dialUpgrade opens a raw connection to the gateway and sends a WebSocket
// handshake for path; it returns the connection and the gateway's answer.
func dialUpgrade(t *testing.T, gwURL, path string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(gwURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return conn, br, resp
}

// WebSocket through the gateway: the inbound policy runs on the handshake,
// the backend's 101 reaches the caller, then bytes flow both ways; a
// tunnel idle for the gateway's TunnelIdleTimeout is closed.
func TestWebSocketPassThrough(t *testing.T) {
	handshake := make(chan http.Header, 4)
	be := upgradeBackend(t, handshake)
	dir := t.TempDir()
	cfg := loadConfig(t, dir, `  apis:
    - { name: ws, path: ws, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: ws.xml }
`, map[string]string{"ws.xml": `<policies><inbound><base/><set-header name="X-Gateway" exists-action="override"><value>passed</value></set-header></inbound></policies>`})
	_, srv := start(t, cfg, Options{})
	// The same API on a gateway whose tunnels close after 300 ms idle.
	_, idleSrv := start(t, cfg, Options{TunnelIdleTimeout: 300 * time.Millisecond})
	conn, br, resp := dialUpgrade(t, srv.URL, "/ws/chat")
	if resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "websocket" || !strings.EqualFold(resp.Header.Get("Connection"), "upgrade") {
		t.Fatalf("handshake answer: %d %v", resp.StatusCode, resp.Header)
	}
	if h := <-handshake; h.Get("X-Gateway") != "passed" || h.Get("Sec-Websocket-Key") == "" {
		t.Fatalf("the backend's handshake: %v", h)
	}
	for _, msg := range []string{"hello", "second message"} {
		io.WriteString(conn, msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != strings.ToUpper(msg) {
			t.Fatalf("echo of %q: %q %v", msg, got, err)
		}
	}

	// Idle: the gateway closes the tunnel.
	conn2, br2, resp2 := dialUpgrade(t, idleSrv.URL, "/ws/idle")
	<-handshake
	if resp2.StatusCode != 101 {
		t.Fatalf("second handshake: %d", resp2.StatusCode)
	}
	conn2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br2.ReadByte(); err != io.EOF {
		t.Fatalf("an idle tunnel: read gave %v, want EOF (closed by the gateway)", err)
	}
}
