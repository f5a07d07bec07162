package ratelimit

import (
	"context"
	"sync"
)

// maxGroupsPerCall bounds the callers one script call decides for, so one
// call never keeps Redis busy for long.
const maxGroupsPerCall = 64

// coalescer sends the work of concurrent callers together. The first caller
// finds nobody running and runs its own work at once (no wait when load is
// low); callers arriving while a call is on its way queue up, and the first
// of them runs the whole queue as the next call once the running one ends.
// Each caller then gets its own result. The leader of a call never runs
// another one: it passes the lead to the first caller still queued, so no
// caller waits for more than the call before its own.
//
// With Redis, the queued groups run in order inside one atomic script, so
// every decision is exactly what it would be alone; what is saved is a round
// trip and a script call per caller, most of a limit's cost under load.
type coalescer[In, Out any] struct {
	mu    sync.Mutex
	queue []*waiter[In, Out]
	busy  bool
	max   int
	run   func(context.Context, []In) ([]Out, error)
}

type waiter[In, Out any] struct {
	in   In
	out  Out
	err  error
	lead bool
	wake chan struct{}
}

func newCoalescer[In, Out any](max int, run func(context.Context, []In) ([]Out, error)) *coalescer[In, Out] {
	return &coalescer[In, Out]{max: max, run: run}
}

// do runs in, alone or with the work of concurrent callers. A call already
// sent is not abandoned when ctx ends: its result is what the store did.
func (c *coalescer[In, Out]) do(ctx context.Context, in In) (Out, error) {
	w := &waiter[In, Out]{in: in, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	lead := !c.busy
	c.busy = true
	c.mu.Unlock()
	if !lead {
		<-w.wake
		if !w.lead {
			return w.out, w.err
		}
	}
	// w leads: it is the queue's first, so its work is in this call.
	c.mu.Lock()
	n := min(len(c.queue), c.max)
	batch := c.queue[:n:n]
	c.queue = append([]*waiter[In, Out](nil), c.queue[n:]...)
	c.mu.Unlock()
	ins := make([]In, len(batch))
	for i, b := range batch {
		ins[i] = b.in
	}
	outs, err := c.run(context.WithoutCancel(ctx), ins)
	for i, b := range batch {
		if err != nil {
			b.err = err
		} else {
			b.out = outs[i]
		}
		if b != w {
			b.wake <- struct{}{}
		}
	}
	c.mu.Lock()
	if len(c.queue) > 0 {
		next := c.queue[0]
		next.lead = true
		c.mu.Unlock()
		next.wake <- struct{}{}
	} else {
		c.busy = false
		c.mu.Unlock()
	}
	return w.out, w.err
}

// queued is the number of callers waiting for a call (tests).
func (c *coalescer[In, Out]) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}
