package apim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A specification or schema document as plain JSON values (map[string]any,
// []any, string, json.Number, bool, nil): what the JSON Schema compiler
// takes. YAML mapping keys become strings whatever their YAML type (an
// OpenAPI response code written 200: is an integer key), and the
// conversion is bounded: aliases are followed (YAML's "billion laughs"),
// so every value visited counts against maxTreeNodes.

const (
	maxTreeNodes = 2_000_000
	maxTreeDepth = 1000
)

var errTreeTooBig = fmt.Errorf("the document is too large once its YAML aliases are expanded (more than %d values)", maxTreeNodes)

// decodeYAMLTree parses YAML (or JSON, which is YAML) into plain values.
func decodeYAMLTree(data []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if root.Kind == 0 {
		return nil, errors.New("the document is empty")
	}
	t := &treeBuilder{}
	return t.value(&root, 0)
}

type treeBuilder struct {
	nodes int
}

func (t *treeBuilder) value(n *yaml.Node, depth int) (any, error) {
	t.nodes++
	if t.nodes > maxTreeNodes {
		return nil, errTreeTooBig
	}
	if depth > maxTreeDepth {
		return nil, fmt.Errorf("line %d: values nested more than %d deep", n.Line, maxTreeDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, errors.New("the document is empty")
		}
		return t.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias", n.Line)
		}
		return t.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := t.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a scalar", k.Line)
			}
			val, err := t.value(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		// YAML merge keys (<<: *base): the mapping's own keys win.
		for _, m := range merges {
			mv, err := t.value(m, depth+1)
			if err != nil {
				return nil, err
			}
			list, ok := mv.([]any)
			if !ok {
				list = []any{mv}
			}
			for _, item := range list {
				mm, ok := item.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("line %d: a merge key (<<) needs a mapping", m.Line)
				}
				for k, v := range mm {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
			}
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// scalar converts a YAML scalar by its resolved tag; numbers become
// json.Number so that no precision is lost.
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return b, nil
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(s), nil
		}
		var i int64
		if err := n.Decode(&i); err == nil { // 0x1F, 0o17 ...
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return json.Number(strconv.FormatUint(u, 10)), nil
		}
		return n.Value, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value, nil // .inf and .nan are not JSON numbers
		}
		if _, err := strconv.ParseFloat(n.Value, 64); err == nil && json.Valid([]byte(n.Value)) {
			return json.Number(n.Value), nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return n.Value, nil // strings, timestamps, binary: their text
}
