package ief

import (
	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
)

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
