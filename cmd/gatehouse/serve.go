package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/roles"
)

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
	pprofAddr := fl.String("pprof-listen", "", "serve Go's pprof profiles on this loopback address (for example 127.0.0.1:6060); off by default (admin: { pprof: true } is the config form)")
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

	r, err := roles.Build(cfg, roles.Options{Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer r.Close()

	// Listen on every address before serving any, so a port in use stops
	// start-up cleanly instead of leaving half the roles running.
	type listener struct {
		srv *http.Server
		ln  net.Listener
		tls *tls.Config
	}
	var all []listener
	closeAll := func() {
		for _, l := range all {
			l.ln.Close()
		}
	}
	for _, rs := range r.Servers {
		ln, err := net.Listen("tcp", rs.Listen)
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "gatehouse: %s: %v\n", rs.Name, err)
			return 1
		}
		all = append(all, listener{roles.HTTPServer(rs, r.Timeouts, log), ln, rs.TLS})
		scheme := "http"
		if rs.TLS != nil {
			scheme = "https"
		}
		log.Info("listening", "role", rs.Name, "url", scheme+"://"+ln.Addr().String())
	}
	if a := r.Admin; a != nil {
		ln, err := net.Listen("tcp", a.Listen)
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "gatehouse: admin: %v\n", err)
			return 1
		}
		if a.Pprof && !loopback(a.Listen) {
			log.Warn("admin.pprof is on and admin.listen is not a loopback address: profiles (and the process's command line) are reachable from the network", "addr", a.Listen)
		}
		admin := roles.HTTPServer(&roles.Server{Name: "admin", Handler: r.AdminHandler(a.Pprof)}, r.Timeouts, log)
		all = append(all, listener{admin, ln, nil})
		log.Info("listening", "role", "admin", "url", "http://"+ln.Addr().String())
	}
	if *pprofAddr != "" {
		if !loopback(*pprofAddr) {
			closeAll()
			fmt.Fprintf(stderr, "gatehouse: --pprof-listen %s: profiles are served on loopback only (127.0.0.1, ::1, localhost); use admin: { listen, pprof: true } for another address\n", *pprofAddr)
			return 2
		}
		go servePprof(*pprofAddr, r.Timeouts, log)
	}
	var servers []*http.Server
	errc := make(chan error, len(all))
	for _, l := range all {
		servers = append(servers, l.srv)
		go func() { errc <- roles.Serve(l.srv, l.ln, l.tls) }()
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
func reload(file string, old *config.Config, r *roles.Set, log *slog.Logger) {
	cfg, err := config.Load(file)
	if err != nil {
		log.Error("reload failed; keeping the running config", "err", oneLine(err))
		return
	}
	if r.Gateway == nil || cfg.Gateway == nil {
		log.Warn("reload: only the gateway section can be reloaded; restart to change roles")
		return
	}
	if cfg.Gateway.Listen != old.Gateway.Listen {
		log.Warn("reload: gateway.listen changed; the new address takes effect after a restart")
	}
	if err := r.Gateway.Reload(cfg.Gateway); err != nil {
		log.Error("reload failed; keeping the running config", "err", oneLine(err))
		return
	}
	log.Info("config reloaded", "file", file)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func shutdown(servers []*http.Server, grace time.Duration) error {
	return roles.ShutdownAll(servers, grace)
}
