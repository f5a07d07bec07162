package apim

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// Exec is the state of one request moving through a pipeline. Policies read
// and change x.Ctx: x.Ctx.Request is what forward-request sends to the
// backend (method, URL, headers, body), x.Ctx.Response is what the caller
// will receive.
type Exec struct {
	Ctx     *expr.Context
	Env     *Env
	Section Section // section being run
	Scope   Scope   // scope of the document the running policy came from
	// HTTPRequest is the caller's request (read-only for policies).
	HTTPRequest *http.Request

	afterResponse []func(*Exec)
}

// Now is the gateway's clock.
func (x *Exec) Now() time.Time {
	if x.Env != nil && x.Env.Now != nil {
		return x.Env.Now()
	}
	return time.Now()
}

// AfterResponse registers f to run once the backend's (or a policy's)
// response is known, before outbound: for increment-condition expressions
// that look at context.Response and for bandwidth quotas.
func (x *Exec) AfterResponse(f func(*Exec)) { x.afterResponse = append(x.afterResponse, f) }

// Eval evaluates v; a literal evaluates to its string. An expression failure
// becomes a *PolicyError with Reason ExpressionValueEvaluationFailure.
func (x *Exec) Eval(v Value) (any, error) { panic("apim: Exec.Eval not implemented yet") }

// String evaluates v and converts the result with expr.ToString.
func (x *Exec) String(v Value) (string, error) { panic("apim: Exec.String not implemented yet") }

// Bool evaluates v as a boolean; def when v is not set.
func (x *Exec) Bool(v Value, def bool) (bool, error) { panic("apim: Exec.Bool not implemented yet") }

// Int evaluates v as an integer; def when v is not set.
func (x *Exec) Int(v Value, def int64) (int64, error) { panic("apim: Exec.Int not implemented yet") }

// Run executes policies in order, stopping at the first error (ErrReturn included).
func Run(x *Exec, ps []Policy) error {
	for _, p := range ps {
		if err := p.Exec(x); err != nil {
			return err
		}
	}
	return nil
}
