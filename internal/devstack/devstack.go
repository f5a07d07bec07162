// Package devstack is `gatehouse dev`: the demo stack on embedded defaults,
// served over HTTPS with the local development CA, its URLs written to
// dev.json so scripts and browser tests can find them.
package devstack

import (
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/gateway"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/devca"
)

//go:embed policy.xml
var globalPolicy []byte

// Options are the flags of `gatehouse dev`.
type Options struct {
	DataDir string // default ./.gatehouse
	Host    string // default 127.0.0.1
	// AutoPorts picks free ports instead of the defaults (gateway 8081,
	// function host 7071, site 3000).
	AutoPorts bool
	Logger    *slog.Logger
}

// Info is what dev.json holds.
type Info struct {
	GatewayURL       string `json:"gatewayUrl"`
	HelloURL         string `json:"helloUrl"`
	HelloFunctionURL string `json:"helloFunctionUrl"`
	CACertificate    string `json:"caCertificate"`
}

// Run serves the stack until ctx ends. ready, when not nil, receives the
// Info once every listener is up.
func Run(ctx context.Context, o Options, ready func(Info)) error {
	if o.DataDir == "" {
		o.DataDir = ".gatehouse"
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	cert, _, files, err := devca.Ensure(filepath.Join(dir, "tls"), time.Now())
	if err != nil {
		return fmt.Errorf("development CA: %w", err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	port := func(def int) string {
		if o.AutoPorts {
			return net.JoinHostPort(o.Host, "0")
		}
		return net.JoinHostPort(o.Host, strconv.Itoa(def))
	}
	fnLn, err := tls.Listen("tcp", port(7071), tlsCfg)
	if err != nil {
		return fmt.Errorf("function host: %w", err)
	}
	defer fnLn.Close()
	gwLn, err := tls.Listen("tcp", port(8081), tlsCfg)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	defer gwLn.Close()
	fnURL := "https://" + fnLn.Addr().String()
	gwURL := "https://" + gwLn.Addr().String()
	siteOrigin := "https://" + net.JoinHostPort(o.Host, "3000")

	policyFile := filepath.Join(dir, "policies", "global.xml")
	if err := os.MkdirAll(filepath.Dir(policyFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(policyFile, globalPolicy, 0o644); err != nil {
		return err
	}
	notRequired := false
	gcfg := &config.Gateway{
		Listen:      gwLn.Addr().String(),
		NamedValues: map[string]config.Secret{"site-origin": {Value: siteOrigin}},
		Policy:      config.Path{Raw: policyFile, Abs: policyFile},
		Apis: []config.API{{
			Name: "hello", Path: "hello", ServiceURL: fnURL + "/api", SubscriptionRequired: &notRequired,
		}},
	}
	// The gateway calls the function host over HTTPS with the dev CA.
	gw, err := gateway.New(gcfg, gateway.Options{Logger: log.With("role", "gateway"), Transport: devTransport(files.CACert)})
	if err != nil {
		return err
	}
	defer gw.Close()

	servers := []*http.Server{
		{Handler: helloFunction(), ReadHeaderTimeout: 10 * time.Second},
		{Handler: gw, ReadHeaderTimeout: 10 * time.Second},
	}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(fnLn) }()
	go func() { errc <- servers[1].Serve(gwLn) }()

	info := Info{
		GatewayURL:       gwURL + "/",
		HelloURL:         gwURL + "/hello/hello",
		HelloFunctionURL: fnURL + "/api/hello",
		CACertificate:    files.CACert,
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "dev.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	log.Info("gatehouse dev is running", "gateway", info.GatewayURL, "hello", info.HelloURL,
		"function", info.HelloFunctionURL, "devJson", filepath.Join(dir, "dev.json"), "trust", files.CACert)
	if ready != nil {
		ready(info)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(sctx)
	}
	return nil
}

// helloFunction is the demo function of seed 004.
func helloFunction() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello World, time and date are %s", time.Now().Format(time.RFC1123))
	})
	return mux
}
