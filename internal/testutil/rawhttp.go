package testutil

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
)

// RawGet sends "GET target" to the server at base byte for byte (no
// client-side normalisation of the target, so a test knows exactly what
// the server received) and returns the answer with its body read.
func RawGet(t testing.TB, base, target string) (status int, header http.Header, body string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, u.Host); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

// HS256 is a JWT of claims signed with key (HMAC-SHA256), for tests whose
// validator trusts key.
func HS256(t testing.TB, key []byte, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	s := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(c)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return s + "." + enc.EncodeToString(m.Sum(nil))
}
