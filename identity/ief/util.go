package ief

import (
	"sort"

	"github.com/gatehouse/gatehouse/identity/ief/localization"

	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hasID reports whether a container element has a child with the Id.
func hasID(list *tfxml.Node, id string) bool {
	if list == nil {
		return false
	}
	for _, k := range list.Kids {
		if k.Attr("Id") == id {
			return true
		}
	}
	return false
}

func hasLocalizedResources(loc *localization.Localization, id string) bool {
	return loc != nil && loc.Resources[id] != nil
}
