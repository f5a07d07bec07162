package ratelimit

import (
	"context"
	"sync"
)

// maxGroupsPerCall bounds the callers one script call decides for, so one
// call never keeps Redis busy for long.
const maxGroupsPerCall = 64

// coalescer sends the work of concurrent callers together. A caller that
// finds no call on its way runs its own work at once (no wait when load is
// low); callers arriving while a call is on its way queue up, and when it
// ends the first of them runs the next call with up to max-1 of the
// others. Each caller then gets its own result. No caller waits for more
// than the call before its own: the leader of a call never runs another.
// (Two calls on their way at once measured no faster: Redis runs scripts
// one at a time anyway.)
//
// With Redis, the groups of one call run in order inside one atomic script
// and share each counter's reads and writes, so every decision is exactly
// what it would be alone; what is saved is the round trips, the script
// calls and the per-counter commands of all but one caller.
type coalescer[In, Out any] struct {
	mu    sync.Mutex
	queue []*waiter[In, Out]
	busy  bool // a call is on its way
	max   int  // callers per call
	run   func(context.Context, []In) ([]Out, error)
}

type waiter[In, Out any] struct {
	in   In
	out  Out
	err  error
	lead bool
	wake chan struct{} // one signal: the result is there, or lead
}

func newCoalescer[In, Out any](max int, run func(context.Context, []In) ([]Out, error)) *coalescer[In, Out] {
	return &coalescer[In, Out]{max: max, run: run}
}

// do runs in, alone or with the work of concurrent callers. A call already
// sent is not abandoned when ctx ends: its result is what the store did.
func (c *coalescer[In, Out]) do(ctx context.Context, in In) (Out, error) {
	w := &waiter[In, Out]{in: in}
	c.mu.Lock()
	if !c.busy {
		c.busy = true
	} else {
		w.wake = make(chan struct{}, 1)
		c.queue = append(c.queue, w)
		c.mu.Unlock()
		<-w.wake
		if !w.lead {
			return w.out, w.err
		}
		c.mu.Lock() // promoted by the leader of the call that ended
	}
	// w leads one call: its own work and what waits first in the queue.
	n := min(len(c.queue), c.max-1)
	batch := append([]*waiter[In, Out]{w}, c.queue[:n]...)
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
		c.queue = c.queue[1:]
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
