package main

import (
	"log/slog"
	"net"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/roles"
)

// servePprof exposes Go's profiler on its own loopback listener
// (--pprof-listen), never on a role's, so profiles are not reachable
// through the gateway. The admin listener (admin: { pprof: true }) is the
// config form of the same.
func servePprof(addr string, t roles.Timeouts, log *slog.Logger) {
	mux := http.NewServeMux()
	roles.PprofRoutes(mux)
	log.Info("pprof listening", "addr", addr)
	// Profiles stream for as long as asked (?seconds=): no read timeout
	// beyond the headers.
	s := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: t.ReadHeader, IdleTimeout: t.Idle}
	if err := s.ListenAndServe(); err != nil {
		log.Error("pprof stopped", "err", err)
	}
}

// loopback reports whether a listen address is on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
