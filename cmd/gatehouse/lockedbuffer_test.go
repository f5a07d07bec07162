package main

import (
	"strings"
	"sync"
	"time"
)

// lockedBuffer collects a child's log lines from a reader goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
	// changed is closed (and replaced) on every write, so waitFor wakes
	// on new lines instead of polling.
	changed chan struct{}
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	l.b.WriteString(s)
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	l.mu.Unlock()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until cond holds for the log so far and reports whether
// it did before limit passed. A child writes a log line before it answers
// the request that caused it, but the line reaches this buffer through a
// pipe and a reader goroutine: a test that counts lines right after the
// answers must wait for them.
func (l *lockedBuffer) waitFor(limit time.Duration, cond func(log string) bool) bool {
	timeout := time.After(limit)
	for {
		l.mu.Lock()
		s := l.b.String()
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		ch := l.changed
		l.mu.Unlock()
		if cond(s) {
			return true
		}
		select {
		case <-ch:
		case <-timeout:
			return false
		}
	}
}
