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
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/roles"
)

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
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

const serveUsage = `usage: gatehouse serve --config FILE
Runs the roles present in the config (identity, gateway, guard, site, admin).
SIGHUP reloads the gateway section; SIGINT/SIGTERM shut down gracefully.
`

// cmdServe runs the roles of a config until SIGINT/SIGTERM; SIGHUP reloads
// the gateway's config without dropping requests.
func cmdServe(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	file := configFlag(fl, "the config `FILE` (YAML)")
	logFormat := fl.String("log-format", "json", "json or text")
	logLevel := fl.String("log-level", "info", "debug, info, warn or error")
	grace := fl.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	pprofAddr := fl.String("pprof-listen", "", "serve Go's pprof profiles on this loopback address (for example 127.0.0.1:6060); off by default (admin: { pprof: true } is the config form)")
	pos, code, ok := parseArgs(fl, args, serveUsage, stdout, stderr)
	if !ok {
		return code
	}
	if *file == "" || len(pos) > 0 {
		fmt.Fprint(stderr, serveUsage)
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

	// Everything is checked before anything is opened or bound: a config
	// error leaves no database, no signing key and no half-open port.
	if err := roles.Check(cfg, roles.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *pprofAddr != "" && !loopback(*pprofAddr) {
		fmt.Fprintf(stderr, "gatehouse: --pprof-listen %s: profiles are served on loopback only (127.0.0.1, ::1, localhost); use admin: { listen, pprof: true } for another address\n", *pprofAddr)
		return 2
	}

	// Listen on every address before opening the store or serving any, so
	// a port in use stops start-up cleanly instead of leaving half the
	// roles running (or a database created for nothing).
	lns := map[string]net.Listener{}
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, a := range roleAddrs(cfg) {
		ln, err := net.Listen("tcp", a.listen)
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "gatehouse: %s: %v\n", a.name, err)
			return 1
		}
		lns[a.name] = ln
	}

	r, err := roles.Build(cfg, roles.Options{Logger: log})
	if err != nil {
		closeAll()
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer r.Close()

	type listener struct {
		srv *http.Server
		ln  net.Listener
		tls *tls.Config
	}
	var all []listener
	for _, rs := range r.Servers {
		ln := lns[rs.Name]
		if ln == nil {
			closeAll()
			fmt.Fprintf(stderr, "gatehouse: %s: no listener\n", rs.Name)
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
		if a.Pprof && !loopback(a.Listen) {
			log.Warn("admin.pprof is on and admin.listen is not a loopback address: profiles (and the process's command line) are reachable from the network", "addr", a.Listen)
		}
		admin := roles.HTTPServer(&roles.Server{Name: "admin", Handler: r.AdminHandler(a.Pprof)}, r.Timeouts, log)
		all = append(all, listener{admin, lns["admin"], nil})
		log.Info("listening", "role", "admin", "url", "http://"+lns["admin"].Addr().String())
	}
	if *pprofAddr != "" {
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

// roleAddr is one listener of a config.
type roleAddr struct{ name, listen string }

// roleAddrs are the listeners a config asks for, in Build's order.
func roleAddrs(cfg *config.Config) []roleAddr {
	var out []roleAddr
	if cfg.Identity != nil {
		out = append(out, roleAddr{"identity", cfg.Identity.Listen})
	}
	if cfg.Guard != nil {
		out = append(out, roleAddr{"guard", cfg.Guard.Listen})
	}
	if cfg.Gateway != nil {
		out = append(out, roleAddr{"gateway", cfg.Gateway.Listen})
	}
	if cfg.Site != nil {
		out = append(out, roleAddr{"site", cfg.Site.Listen})
	}
	if cfg.Admin != nil {
		out = append(out, roleAddr{"admin", cfg.Admin.Listen})
	}
	return out
}

// reload re-reads the config and swaps the gateway's state. Listeners and
// other roles keep running as they are: changing them needs a restart, and
// only a section that did change since start-up is warned about.
func reload(file string, old *config.Config, r *roles.Set, log *slog.Logger) {
	cfg, err := config.Load(file)
	if err != nil {
		log.Error("reload failed; keeping the running config", "err", oneLine(err))
		return
	}
	for _, s := range []struct {
		name     string
		old, new any
	}{
		{"identity", old.Identity, cfg.Identity}, {"guard", old.Guard, cfg.Guard}, {"site", old.Site, cfg.Site},
		{"admin", old.Admin, cfg.Admin}, {"timeouts", old.Timeouts, cfg.Timeouts},
	} {
		if !sameSection(s.old, s.new) {
			log.Warn("reload: the "+s.name+" section changed; it takes effect after a restart (only the gateway section is reloaded)", "section", s.name)
		}
	}
	if r.Identity != nil {
		// Policy keys added with `gatehouse keys add` are used at once.
		r.Identity.Keys.Invalidate("")
	}
	if (r.Gateway == nil) != (cfg.Gateway == nil) {
		log.Warn("reload: the gateway section was added or removed; restart to change roles")
		return
	}
	if r.Gateway == nil {
		log.Info("config re-read; no gateway section to reload", "file", file)
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

var posType = reflect.TypeFor[config.Pos]()

// sameSection compares two config sections, ignoring positions (a line
// added above a section moves it without changing it).
func sameSection(a, b any) bool {
	return sameValue(reflect.ValueOf(a), reflect.ValueOf(b))
}

func sameValue(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == posType {
		return true
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !sameValue(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return a.IsNil() && b.IsNil()
	}
	return a.Equal(b)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func shutdown(servers []*http.Server, grace time.Duration) error {
	return roles.ShutdownAll(servers, grace)
}
