package apim

import (
	"errors"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// OpenAPISpec is what the validation policies read of an API's OpenAPI
// (2 or 3, YAML or JSON) specification: each operation's documented
// response status codes.
type OpenAPISpec struct {
	byName  map[string]*SpecOperation // operationId
	byRoute map[string]*SpecOperation // "GET /items/{id}"
}

// SpecOperation is one operation of a specification.
type SpecOperation struct {
	// Responses are the documented statuses: "200", "4XX", "default".
	Responses map[string]bool
}

// ParseOpenAPI reads a specification.
func ParseOpenAPI(data []byte) (*OpenAPISpec, error) {
	var doc struct {
		Swagger string `yaml:"swagger"`
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string               `yaml:"operationId"`
			Responses   map[string]yaml.Node `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Swagger == "" && doc.OpenAPI == "" {
		return nil, errors.New("not an OpenAPI specification (no openapi or swagger version)")
	}
	s := &OpenAPISpec{byName: map[string]*SpecOperation{}, byRoute: map[string]*SpecOperation{}}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // parameters, summary, $ref ...
			}
			so := &SpecOperation{Responses: map[string]bool{}}
			for code := range op.Responses {
				so.Responses[strings.ToUpper(code)] = true
			}
			if op.OperationID != "" {
				s.byName[op.OperationID] = so
			}
			s.byRoute[strings.ToUpper(method)+" "+path] = so
		}
	}
	return s, nil
}

// operation is the specification's operation of the running request (by
// its name, else its method and URL template); nil when it has none.
func (s *OpenAPISpec) operation(x *Exec) *SpecOperation {
	op := x.Ctx.Operation
	if s == nil || op == nil {
		return nil
	}
	if so := s.byName[op.Name]; so != nil {
		return so
	}
	return s.byRoute[strings.ToUpper(op.Method)+" "+op.UrlTemplate]
}

// documents reports whether status is among the operation's responses
// (exactly, by its class such as 4XX, or by default).
func (so *SpecOperation) documents(status int) bool {
	code := strconv.Itoa(status)
	return so.Responses[code] || so.Responses[code[:1]+"XX"] || so.Responses["DEFAULT"]
}
