package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/gateway"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/site"
)

// roles are the handlers built from one config, before anything listens.
type roles struct {
	gateway  *gateway.Gateway
	identity *identityRole
	servers  []*roleServer
}

type roleServer struct {
	name    string
	listen  string
	tls     *tls.Config
	handler http.Handler
}

func (r *roles) close() {
	if r.gateway != nil {
		r.gateway.Close()
	}
	if r.identity != nil {
		r.identity.close()
	}
}

// buildRoles loads every role of cfg; any error stops start-up.
func buildRoles(cfg *config.Config, log *slog.Logger) (*roles, error) {
	r := &roles{}
	var errs []error
	if id := cfg.Identity; id != nil {
		role, err := buildIdentity(id, filepath.Dir(cfg.File), log.With("role", "identity"))
		if err != nil {
			errs = append(errs, err)
		} else {
			r.identity = role
			tc, err := tlsConfig(id.TLS)
			if err != nil {
				errs = append(errs, err)
			}
			r.servers = append(r.servers, &roleServer{"identity", id.Listen, tc, role.handler})
		}
	}
	if cfg.Guard != nil {
		errs = append(errs, &config.Error{Pos: cfg.Guard.Pos, Msg: "the guard role is not available in this build yet"})
	}
	if g := cfg.Gateway; g != nil {
		gw, err := gateway.New(g, gateway.Options{Logger: log.With("role", "gateway")})
		if err != nil {
			errs = append(errs, err)
		} else {
			r.gateway = gw
			tc, err := tlsConfig(g.TLS)
			if err != nil {
				errs = append(errs, err)
			}
			r.servers = append(r.servers, &roleServer{"gateway", g.Listen, tc, gw})
		}
	}
	if s := cfg.Site; s != nil {
		h, err := site.Handler(s.Root.Abs)
		if err != nil {
			errs = append(errs, &config.Error{Pos: s.Root.Pos, Msg: "site.root: " + err.Error()})
		} else {
			tc, err := tlsConfig(s.TLS)
			if err != nil {
				errs = append(errs, err)
			}
			r.servers = append(r.servers, &roleServer{"site", s.Listen, tc, h})
		}
	}
	if len(errs) > 0 {
		r.close()
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// tlsConfig loads a role's certificate; nil config means plain HTTP.
func tlsConfig(t *config.TLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	cert, err := tls.X509KeyPair([]byte(t.Certificate.Value), []byte(t.Key.Value))
	if err != nil {
		return nil, &config.Error{Pos: t.Pos, Msg: "tls: cannot load the certificate and key: " + err.Error()}
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.NegotiateClientCertificate {
		tc.ClientAuth = tls.RequestClientCert
	}
	return tc, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be json or text, got %q", format)
}

// cmdServe runs the roles of a config until SIGINT/SIGTERM; SIGHUP reloads
// the gateway's config without dropping requests.
func cmdServe(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	file := fl.String("config", "", "the config file (YAML)")
	logFormat := fl.String("log-format", "json", "json or text")
	logLevel := fl.String("log-level", "info", "debug, info, warn or error")
	grace := fl.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	pprofAddr := fl.String("pprof-listen", "", "serve Go's pprof profiles on this address (for example 127.0.0.1:6060); off by default")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "usage: gatehouse serve --config FILE")
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse:", err)
		return 2
	}
	cfg, err := config.Load(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// Signals are taken over before anything listens: SIGHUP's default
	// action would otherwise kill a process that a reload script signals
	// while it is still starting.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	r, err := buildRoles(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer r.close()

	// Listen on every address before serving any, so a port in use stops
	// start-up cleanly instead of leaving half the roles running.
	var servers []*http.Server
	var listeners []net.Listener
	for _, rs := range r.servers {
		ln, err := net.Listen("tcp", rs.listen)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			fmt.Fprintf(stderr, "gatehouse: %s: %v\n", rs.name, err)
			return 1
		}
		if rs.tls != nil {
			ln = tls.NewListener(ln, rs.tls)
		}
		listeners = append(listeners, ln)
		servers = append(servers, &http.Server{
			Handler:           rs.handler,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		})
		scheme := "http"
		if rs.tls != nil {
			scheme = "https"
		}
		log.Info("listening", "role", rs.name, "url", scheme+"://"+ln.Addr().String())
	}
	if *pprofAddr != "" {
		go servePprof(*pprofAddr, log)
	}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}

	for {
		select {
		case err := <-errc:
			log.Error("server stopped", "err", err)
			shutdown(servers, *grace)
			return 1
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(*file, cfg, r, log)
				continue
			}
			log.Info("shutting down", "signal", sig.String())
			if err := shutdown(servers, *grace); err != nil {
				log.Error("shutdown incomplete", "err", err)
				return 1
			}
			return 0
		}
	}
}

// reload re-reads the config and swaps the gateway's state. Listeners and
// other roles keep running as they are: changing them needs a restart.
func reload(file string, old *config.Config, r *roles, log *slog.Logger) {
	cfg, err := config.Load(file)
	if err != nil {
		log.Error("reload failed; keeping the running config", "err", oneLine(err))
		return
	}
	if r.gateway == nil || cfg.Gateway == nil {
		log.Warn("reload: only the gateway section can be reloaded; restart to change roles")
		return
	}
	if cfg.Gateway.Listen != old.Gateway.Listen {
		log.Warn("reload: gateway.listen changed; the new address takes effect after a restart")
	}
	if err := r.gateway.Reload(cfg.Gateway); err != nil {
		log.Error("reload failed; keeping the running config", "err", oneLine(err))
		return
	}
	log.Info("config reloaded", "file", file)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func shutdown(servers []*http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
