package apim

import (
	"math"
	"time"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// retry condition count interval max-interval delta first-fast-retry: runs
// its policies, then evaluates condition; while it is true and retries are
// left, waits and runs them again. Waits: interval alone is fixed; with
// delta it grows linearly (interval + n·delta) or, when max-interval is also
// given, exponentially (interval + (2^n − 1)·delta), capped by max-interval.
// first-fast-retry makes the first retry immediate. A failing child policy
// ends the retry and goes to on-error (the condition cannot be evaluated
// without the child's outcome). Waiting uses a timer and stops when the
// caller goes away.

func init() {
	Register(Spec{Name: "retry", Compile: compileRetry})
}

type retry struct {
	cond, count, interval, maxInterval, delta, firstFast Value
	policies                                             []Policy
}

func compileRetry(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "condition", "count", "interval", "max-interval", "delta", "first-fast-retry"); err != nil {
		return nil, err
	}
	p := &retry{}
	var err error
	for _, a := range []struct {
		name string
		v    *Value
	}{{"condition", &p.cond}, {"count", &p.count}, {"interval", &p.interval}, {"max-interval", &p.maxInterval}, {"delta", &p.delta}, {"first-fast-retry", &p.firstFast}} {
		if *a.v, err = b.Attr(n, a.name); err != nil {
			return nil, err
		}
		if a.name != "condition" && a.name != "first-fast-retry" {
			if err := checkNonNegInt(b, *a.v, a.name); err != nil {
				return nil, err
			}
		}
	}
	if !p.cond.Set || !p.count.Set || !p.interval.Set {
		return nil, b.Errorf(n.Pos, "retry: attributes \"condition\", \"count\" and \"interval\" are required")
	}
	if err := checkEnum(b, p.firstFast, "first-fast-retry", "true", "false"); err != nil {
		return nil, err
	}
	if p.policies, err = b.Policies(n.Children); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *retry) Exec(x *Exec) error {
	count, err := x.Int(p.count, 0)
	if err != nil {
		return err
	}
	interval, err := x.Int(p.interval, 0)
	if err != nil {
		return err
	}
	maxInt, err := x.Int(p.maxInterval, 0)
	if err != nil {
		return err
	}
	delta, err := x.Int(p.delta, 0)
	if err != nil {
		return err
	}
	fast, err := x.Bool(p.firstFast, false)
	if err != nil {
		return err
	}
	x.retrying++ // forward-request buffers the body so attempts can resend it
	defer func() { x.retrying-- }()
	for attempt := int64(0); ; attempt++ {
		if err := Run(x, p.policies); err != nil {
			return err
		}
		again, err := x.Bool(p.cond, false)
		if err != nil {
			return err
		}
		if !again || attempt >= count {
			return nil
		}
		wait := retryWait(attempt+1, interval, maxInt, delta, fast)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-x.Context().Done():
				t.Stop()
				return backendError("retry", x.Context().Err(), false, true, 0)
			}
		}
	}
}

// retryWait is the pause before retry n (1-based), in seconds units.
func retryWait(n, interval, maxInt, delta int64, fast bool) time.Duration {
	if fast && n == 1 {
		return 0
	}
	if fast {
		n--
	}
	secs := float64(interval)
	switch {
	case delta > 0 && maxInt > 0:
		secs += (math.Pow(2, float64(n-1)) - 1) * float64(delta)
	case delta > 0:
		secs += float64(n-1) * float64(delta)
	}
	if maxInt > 0 && secs > float64(maxInt) {
		secs = float64(maxInt)
	}
	return time.Duration(secs * float64(time.Second))
}
