package restful

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// New returns the policy engine's runner of RESTful profiles (the
// "RESTful" provider). Each profile gets its client on first use.
//
// Failures for the user are *journey.UserError: in a validation profile
// the page shows its Message (the API's userMessage for a 409); in an
// orchestration step it ends the journey with B2C's AADB2C90075 text
// naming the claims exchange and step.
func New(o Options) journey.Runner {
	return &runner{o: o.withDefaults(), clients: map[*ief.TechnicalProfile]*Client{}}
}

type runner struct {
	o       Options
	mu      sync.Mutex
	clients map[*ief.TechnicalProfile]*Client
}

func (r *runner) client(p *ief.Policy, tp *ief.TechnicalProfile) (*Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.clients[tp]; c != nil {
		return c, nil
	}
	prof := FromMetadata(tp.ID, tp.Metadata, tp.Keys)
	prof.PolicyDevelopment = p.DeploymentMode == Development
	c, err := NewClient(prof, r.o)
	if err != nil {
		return nil, err
	}
	r.clients[tp] = c
	return c, nil
}

// Run calls the profile's API.
func (r *runner) Run(ctx context.Context, c *journey.Call) (journey.Bag, error) {
	tp, pol := c.Profile, c.Policy
	cl, err := r.client(pol, tp)
	if err != nil {
		return nil, err
	}
	prof := cl.Profile()
	id := func(ref string) string {
		if ct := pol.Claim(ref); ct != nil {
			return ct.ID
		}
		return ref
	}
	req := Request{}
	bearer := ""
	if prof.BearerClaim != "" {
		bearer = id(prof.BearerClaim)
		req.BearerToken = c.In.String(bearer)
	}
	if prof.PayloadClaim != "" {
		req.Payload = c.In.String(id(prof.PayloadClaim))
	}
	for _, ref := range tp.InputClaims {
		if bearer != "" && id(ref.ClaimType) == bearer {
			continue // sent as the Authorization header only
		}
		v, ok := c.Inputs[ref.Name()]
		if !ok || v.Value == nil {
			continue // B2C leaves out claims without a value
		}
		if s, isStr := v.Value.(string); isStr && s == "" {
			continue
		}
		req.Inputs = append(req.Inputs, Input{Name: ref.Name(), Value: v})
	}
	for _, ref := range tp.OutputClaims {
		if ref.AlwaysUseDefault {
			continue
		}
		dt := claimstx.String
		if ct := pol.Claim(ref.ClaimType); ct != nil {
			dt = claimstx.DataType(ct.DataType)
		}
		req.Outputs = append(req.Outputs, Output{Name: ref.Name(), DataType: dt})
	}
	got, err := cl.Call(ctx, req)
	var re *Error
	if errors.As(err, &re) {
		return nil, userError(c, re)
	}
	if err != nil {
		return nil, err
	}
	return c.ByName(got), nil
}

// userError is the engine's form of a failed call. In an orchestration
// step (the step being run exchanges this profile) it reads as B2C's
// AADB2C90075 for the journey's error_description; in a validation
// profile it is the message for the page.
func userError(c *journey.Call, e *Error) *journey.UserError {
	msg := e.Message
	if d := e.Details(); d != "" {
		msg += " (" + d + ")"
	}
	code := e.Code
	if code == "" {
		code = "AADB2C90075"
	}
	if order, exchange, ok := orchestrationStep(c); ok {
		status := "Conflict"
		if e.Status != 0 {
			status = strings.ReplaceAll(http.StatusText(e.Status), " ", "")
		}
		return &journey.UserError{Code: "AADB2C90075", Message: fmt.Sprintf(
			"The claims exchange '%s' specified in step '%d' returned HTTP error response with Code '%s' and Reason '%s'.",
			exchange, order, status, msg)}
	}
	return &journey.UserError{Code: code, Message: msg}
}

// orchestrationStep finds the step running the call's profile as its
// claims exchange (false for a validation profile).
func orchestrationStep(c *journey.Call) (int, string, bool) {
	if c.State == nil || len(c.State.Stack) == 0 {
		return 0, "", false
	}
	fr := c.State.Stack[len(c.State.Stack)-1]
	j := c.Policy.Journeys[fr.Journey]
	if fr.Sub {
		j = c.Policy.SubJourneys[fr.Journey]
	}
	if j == nil || fr.Step < 0 || fr.Step >= len(j.Steps) {
		return 0, "", false
	}
	s := j.Steps[fr.Step]
	for _, x := range s.Exchanges {
		if x.Profile == c.Profile.ID {
			return s.Order, x.ID, true
		}
	}
	return 0, "", false
}
