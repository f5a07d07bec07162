package apim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// NamedSchema is a schema of the gateway's configuration (gateway.schemas),
// APIM's schemas of the instance: validate-content's schema-id names one.
// JSON Schema documents (JSON or YAML; draft 4 to 2020-12 by their
// $schema, draft 7 without one; an OpenAPI components document works too,
// with schema-ref="#/components/schemas/...") are compiled at load. XML
// schemas (XSD) are recognised so that using one is a clear load error:
// XSD validation is not implemented.
type NamedSchema struct {
	// XML is true for an XML schema (XSD).
	XML bool
	doc *schemaDoc
}

// ParseSchema reads a named schema document.
func ParseSchema(data []byte) (*NamedSchema, error) {
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("the schema is %d bytes long, more than the %d bytes accepted", len(data), maxSpecBytes)
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("<")) {
		if err := xmlWellFormed(trimmed); err != nil {
			return nil, fmt.Errorf("not a well-formed XML schema: %v", err)
		}
		return &NamedSchema{XML: true}, nil
	}
	v, err := decodeYAMLTree(data)
	if err != nil {
		return nil, fmt.Errorf("not a JSON schema: %v", err)
	}
	switch v.(type) {
	case map[string]any, bool:
	default:
		return nil, errors.New("not a JSON schema (the document is neither an object nor a boolean)")
	}
	s := &NamedSchema{doc: newSchemaDoc(v, 0)}
	// Compile the root now: a broken schema is an error at its file, not
	// at the first policy that names it.
	if _, err := s.doc.compile("", schemaMode{}); err != nil {
		return nil, err
	}
	return s, nil
}

// xmlWellFormed checks that data is one well-formed XML document (one root
// element). encoding/xml never resolves external entities.
func xmlWellFormed(data []byte) error {
	_, err := xmlRoot(data)
	return err
}

// xmlRoot checks well-formedness and returns the root element's name.
func xmlRoot(data []byte) (xml.Name, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root xml.Name
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return root, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return root, errors.New("more than one root element")
				}
				root = t.Name
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return root, errors.New("text outside the root element")
			}
		}
	}
	if roots == 0 {
		return root, errors.New("no root element")
	}
	return root, nil
}
