// Package testutil holds helpers shared by tests that need real services.
package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAddr is where tests expect a Redis 7.
const RedisAddr = "127.0.0.1:6379"

// RedisServerBin is the redis-server used by StartRedisServer.
const RedisServerBin = "/usr/bin/redis-server"

const redisHint = "Redis not reachable at " + RedisAddr +
	"; start it with: redis-server --daemonize yes --port 6379 --save '' --appendonly no"

// Redis returns a client for the Redis at RedisAddr, closed when the test
// ends. When Redis does not answer the test is skipped, or failed when the
// environment variable CI is "true".
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (%v)", redisHint, err)
		}
		t.Skip(redisHint)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RedisClient returns another client for RedisAddr (several clients
// simulate several gateway processes), closed when the test ends. Call
// Redis first to skip when Redis is down.
func RedisClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// RedisPrefix returns a key prefix unique to this test run,
// "gatehouse-test:<test name>:<random>:", and deletes every key under it
// when the test ends.
func RedisPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	p := "gatehouse-test:" + unsafeChars.ReplaceAllString(t.Name(), "_") + ":" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, p+"*", 500).Result()
			if err != nil {
				t.Logf("cleaning Redis keys %s*: %v", p, err)
				return
			}
			if len(keys) > 0 {
				c.Del(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				return
			}
		}
	})
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

// RedisServer is a throwaway redis-server (no persistence) for tests that
// need to stop and restart Redis.
type RedisServer struct {
	t    testing.TB
	Port int
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedisServer starts RedisServerBin on a free port and waits until it
// answers; it is stopped when the test ends. The test is skipped (failed
// under CI=true) when the binary is missing.
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := os.Stat(RedisServerBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: %v", RedisServerBin, err)
		}
		t.Skipf("%s not found: %v", RedisServerBin, err)
	}
	port := FreePort(t)
	s := &RedisServer{t: t, Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its port and waits until it answers PING.
func (s *RedisServer) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("redis-server on %s already running", s.Addr)
	}
	cmd := exec.Command(RedisServerBin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", RedisServerBin, err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()

	c := redis.NewClient(&redis.Options{Addr: s.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			s.cmd = nil
			s.t.Fatalf("redis-server on %s exited: %v", s.Addr, err)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("redis-server on %s did not answer within 10s: %v", s.Addr, err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}

// Stop kills the server and waits for it to exit. Stopping a stopped
// server does nothing.
func (s *RedisServer) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// ClosedAddr returns a 127.0.0.1 address where nothing listens.
func ClosedAddr(t testing.TB) string {
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}
