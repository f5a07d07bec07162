package apim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// send-request: calls another service and stores the answer (*expr.Response,
// APIM's IResponse) in response-variable-name. mode="new" (default) starts
// from an empty GET, mode="copy" from a copy of the current backend request;
// set-url, set-method, set-header, set-body, authentication-basic and
// authentication-certificate children then apply in order. timeout default
// 60 s. On failure: ignore-error="true" stores null, otherwise a policy error
// (BackendConnectionFailure / Timeout) goes to on-error.
//
// send-one-way-request builds the request the same way and sends it in the
// background without waiting; at most oneWayLimit are in flight and further
// ones are dropped with a warning rather than piling up goroutines.

func init() {
	Register(Spec{Name: "send-request", Compile: compileSendRequest})
	Register(Spec{Name: "send-one-way-request", Compile: compileSendOneWay})
}

type sendRequest struct {
	name     string // policy name, for error sources
	mode     string
	variable string
	timeout  Value
	ignore   Value
	children []msgPolicy
}

var sendChildren = []string{"set-url", "set-method", "set-header", "set-body", "authentication-certificate", "authentication-basic", "authentication-managed-identity", "proxy"}

func compileSendRequest(b *Builder, n *rawxml.Node) (Policy, error) {
	p, err := compileSend(b, n, "response-variable-name", "ignore-error")
	if err != nil {
		return nil, err
	}
	if p.variable == "" {
		return nil, b.Errorf(n.Pos, "send-request: attribute \"response-variable-name\" is required")
	}
	return p, nil
}

func compileSendOneWay(b *Builder, n *rawxml.Node) (Policy, error) {
	p, err := compileSend(b, n)
	if err != nil {
		return nil, err
	}
	return &sendOneWay{p}, nil
}

func compileSend(b *Builder, n *rawxml.Node, extra ...string) (*sendRequest, error) {
	if err := b.Attrs(n, append([]string{"mode", "timeout"}, extra...)...); err != nil {
		return nil, err
	}
	if err := b.Children(n, sendChildren...); err != nil {
		return nil, err
	}
	p := &sendRequest{name: n.Name, mode: "new"}
	mode, err := b.ConstAttr(n, "mode")
	if err != nil {
		return nil, err
	}
	if err := checkEnum(b, mode, "mode", "new", "copy"); err != nil {
		return nil, err
	}
	if mode.Set {
		p.mode = mode.Lit
	}
	v, err := b.ConstAttr(n, "response-variable-name")
	if err != nil {
		return nil, err
	}
	p.variable = v.Lit
	if p.timeout, err = b.Attr(n, "timeout"); err != nil {
		return nil, err
	}
	if err := checkNonNegInt(b, p.timeout, "timeout"); err != nil {
		return nil, err
	}
	if p.ignore, err = b.Attr(n, "ignore-error"); err != nil {
		return nil, err
	}
	if err := checkEnum(b, p.ignore, "ignore-error", "true", "false"); err != nil {
		return nil, err
	}
	if p.children, err = compileMsgChildren(b, n); err != nil {
		return nil, err
	}
	return p, nil
}

// build evaluates the children into an http.Request (without context).
func (p *sendRequest) build(x *Exec) (*message, error) {
	m := &message{method: http.MethodGet, headers: http.Header{}}
	if p.mode == "copy" {
		r := x.Ctx.Request
		m.method = r.Method
		if r.Url != nil {
			u := *r.Url
			u.Query = url.Values{}
			for k, vs := range r.Url.Query {
				u.Query[k] = append([]string(nil), vs...)
			}
			m.url = &u
		}
		m.headers = r.Headers.Clone()
		if m.headers == nil {
			m.headers = http.Header{}
		}
		data, err := x.requestBody()
		if err != nil {
			return nil, err
		}
		m.body, m.hasBody = data, data != nil
	}
	for _, c := range p.children {
		if err := c.applyMsg(x, m); err != nil {
			return nil, err
		}
	}
	if m.url == nil {
		return nil, x.exprError(fmt.Errorf("%s has no URL (set-url)", p.name))
	}
	return m, nil
}

// do sends m and reads the whole response.
func (p *sendRequest) do(ctx context.Context, x *Exec, m *message, timeout time.Duration) (*expr.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if m.hasBody {
		body = bytes.NewReader(m.body)
	}
	req, err := http.NewRequestWithContext(ctx, m.method, urlString(m.url), body)
	if err != nil {
		return nil, &PolicyError{Source: p.name, Reason: "BackendConnectionFailure", Message: err.Error(), Status: 500, ClientMessage: "Internal server error"}
	}
	req.Header = outgoingHeaders(m.headers)
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = nil
	}
	rt, err := x.transport(m.cert)
	if err != nil {
		return nil, &PolicyError{Source: p.name, Reason: "BackendConnectionFailure", Message: err.Error(), Status: 500, ClientMessage: "Internal server error"}
	}
	resp, err := (&http.Client{Transport: rt, CheckRedirect: noRedirect}).Do(req)
	if err != nil {
		return nil, backendError(p.name, err, ctx.Err() != nil, false, timeout)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, backendError(p.name, err, ctx.Err() != nil, false, timeout)
	}
	return responseFrom(resp, data), nil
}

func (p *sendRequest) Exec(x *Exec) error {
	timeout, err := x.timeoutOf(p.timeout, Value{}, 60*time.Second)
	if err != nil {
		return err
	}
	ignore, err := x.Bool(p.ignore, false)
	if err != nil {
		return err
	}
	m, err := p.build(x)
	if err != nil {
		return err
	}
	resp, err := p.do(x.Context(), x, m, timeout)
	if err != nil {
		if !ignore {
			return err
		}
		x.logger().Debug("apim: send-request failed, ignored", "error", err.Error())
		resp = nil
	}
	if resp == nil {
		x.Ctx.Variables[p.variable] = nil
	} else {
		x.Ctx.Variables[p.variable] = resp
	}
	return nil
}

// oneWaySlots bounds background send-one-way-request calls process-wide.
const oneWayLimit = 256

var oneWaySlots = make(chan struct{}, oneWayLimit)

type sendOneWay struct{ *sendRequest }

func (p *sendOneWay) Exec(x *Exec) error {
	timeout, err := x.timeoutOf(p.timeout, Value{}, 60*time.Second)
	if err != nil {
		return err
	}
	m, err := p.build(x)
	if err != nil {
		return err
	}
	select {
	case oneWaySlots <- struct{}{}:
	default:
		x.logger().Warn("apim: send-one-way-request dropped: too many in flight", "limit", oneWayLimit)
		return nil
	}
	log := x.logger()
	go func() {
		defer func() { <-oneWaySlots }()
		// Detached from the caller's request: it must outlive it.
		if _, err := p.do(context.Background(), x, m, timeout); err != nil {
			log.Warn("apim: send-one-way-request failed", "error", err.Error())
		}
	}()
	return nil
}
