package gateway

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawCodec carries messages as raw bytes, so the test needs no generated
// protobuf code (the gateway never looks inside messages).
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// gRPC through the gateway: a gRPC client calls the gateway over h2c, the
// API's serviceUrl is h2c://, the inbound policy's header reaches the
// service as metadata, and the answer's trailers (grpc-status, custom
// ones) come back — a success and an error status.
func TestGRPCPassThrough(t *testing.T) {
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		var in []byte
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		if method == "/test.Echo/Fail" {
			return status.Error(codes.NotFound, "no such thing")
		}
		md, _ := metadata.FromIncomingContext(stream.Context())
		stream.SetTrailer(metadata.Pairs("x-seen-gateway", first(md.Get("x-gateway")), "x-method", method))
		out := append([]byte("echo:"), in...)
		return stream.SendMsg(&out)
	}))
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(bl)
	t.Cleanup(srv.Stop)

	cfg := loadConfig(t, t.TempDir(), `  apis:
    - { name: echo, path: test.Echo, serviceUrl: "h2c://`+bl.Addr().String()+`/test.Echo", subscriptionRequired: false, policy: p.xml }
`, map[string]string{"p.xml": `<policies><inbound><base/><set-header name="x-gateway" exists-action="override"><value>passed</value></set-header></inbound></policies>`})
	gw, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: gw, Protocols: new(http.Protocols)}
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetUnencryptedHTTP2(true)
	go hs.Serve(gl)
	t.Cleanup(func() { hs.Close() })

	conn, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in, out := []byte("hi"), []byte(nil)
	var trailer metadata.MD
	if err := conn.Invoke(ctx, "/test.Echo/Say", &in, &out, grpc.Trailer(&trailer)); err != nil {
		t.Fatalf("Say: %v", err)
	}
	if string(out) != "echo:hi" || first(trailer.Get("x-seen-gateway")) != "passed" || first(trailer.Get("x-method")) != "/test.Echo/Say" {
		t.Fatalf("Say: %q, trailer %v", out, trailer)
	}
	err = conn.Invoke(ctx, "/test.Echo/Fail", &in, &out)
	if status.Code(err) != codes.NotFound || status.Convert(err).Message() != "no such thing" {
		t.Fatalf("Fail: %v", err)
	}
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
