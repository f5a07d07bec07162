package apim

import (
	"net/http"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// Problem is one load error.
type Problem struct {
	File string
	Pos  rawxml.Pos
	Msg  string
}

func (p Problem) Error() string { return p.File + ":" + p.Pos.String() + ": " + p.Msg }

// Problems is every load error of a document; it is the error type returned
// by Parse*.
type Problems []Problem

func (ps Problems) Error() string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += "\n"
		}
		s += p.Error()
	}
	return s
}

// NamedValue is a gateway named value; secret values are never logged.
type NamedValue struct {
	Value  string
	Secret bool
}

// LoadOptions are what a document may refer to.
type LoadOptions struct {
	NamedValues map[string]NamedValue
	Fragments   map[string]*Document // by fragment id, already parsed with ParseFragment
	// Lenient is for `gatehouse policy check`: unknown named values and
	// fragments are not errors (they are placeholders of another environment).
	Lenient bool
}

// Document is a compiled <policies> or <fragment>.
type Document struct{}

// ParseDocument compiles a <policies> document at scope.
func ParseDocument(file string, src []byte, scope Scope, opts *LoadOptions) (*Document, error) {
	panic("apim: ParseDocument not implemented yet")
}

// ParseFragment compiles a <fragment> document.
func ParseFragment(file string, src []byte, opts *LoadOptions) (*Document, error) {
	panic("apim: ParseFragment not implemented yet")
}

// Pipeline is the effective policy for one route: the documents of every
// scope merged through <base/>.
type Pipeline struct{}

// NewPipeline merges documents from the broadest scope to the narrowest;
// nil documents are skipped (a missing scope behaves as <base/> everywhere).
func NewPipeline(docs ...*Document) *Pipeline { panic("apim: NewPipeline not implemented yet") }

// NewExec prepares the state for one request.
func NewExec(env *Env, r *http.Request, c *expr.Context) *Exec {
	return &Exec{Ctx: c, Env: env, HTTPRequest: r}
}

// Serve runs the pipeline for one request and writes the response: inbound,
// backend (forward-request), outbound, on-error on failure, APIM's error body
// when nothing else answered.
func (p *Pipeline) Serve(w http.ResponseWriter, x *Exec) {
	panic("apim: Pipeline.Serve not implemented yet")
}
