package ief

import (
	"errors"
	"strconv"

	"github.com/gatehouse/gatehouse/identity/ief/predicate"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
)

// predicates compiles the merged Predicates and PredicateValidations into
// p.PredicateSet. Each problem is reported at the Predicate or
// PredicateValidation element it is about.
func (c *checker) predicates(p *Policy) {
	var preds []predicate.Predicate
	if p.Predicates != nil {
		for _, n := range p.Predicates.KidsNamed("Predicate") {
			pr := predicate.Predicate{ID: n.Attr("Id"), Method: n.Attr("Method"), HelpText: n.KidText("UserHelpText"), Params: map[string]string{}}
			if pr.HelpText == "" {
				pr.HelpText = n.Attr("HelpText")
			}
			if ps := n.Kid("Parameters"); ps != nil {
				for _, x := range ps.KidsNamed("Parameter") {
					pr.Params[x.Attr("Id")] = x.Text
				}
			}
			preds = append(preds, pr)
		}
	}
	var vals []predicate.PredicateValidation
	if p.PredicateValidations != nil {
		for _, n := range p.PredicateValidations.KidsNamed("PredicateValidation") {
			v := predicate.PredicateValidation{ID: n.Attr("Id")}
			for _, gs := range n.KidsNamed("PredicateGroups") {
				for _, g := range gs.KidsNamed("PredicateGroup") {
					// The XSD allows several PredicateReferences in a group:
					// each is a Group of its own with its MatchAtLeast.
					for _, refs := range g.KidsNamed("PredicateReferences") {
						grp := predicate.Group{ID: g.Attr("Id"), HelpText: g.KidText("UserHelpText")}
						if grp.ID == "" {
							grp.ID = refs.Attr("Id")
						}
						if grp.HelpText == "" {
							grp.HelpText = refs.Attr("HelpText")
						}
						if m := refs.Attr("MatchAtLeast"); m != "" {
							k, err := strconv.Atoi(m)
							if err != nil {
								k = -1 // reported by Compile as out of range
							}
							grp.MatchAtLeast = k
						}
						for _, r := range refs.KidsNamed("PredicateReference") {
							grp.PredicateRefs = append(grp.PredicateRefs, predicate.Ref{ID: r.Attr("Id")})
						}
						v.Groups = append(v.Groups, grp)
					}
				}
			}
			vals = append(vals, v)
		}
	}
	set, err := predicate.Compile(preds, vals)
	if err != nil {
		var ps predicate.Problems
		if !errors.As(err, &ps) {
			c.add(p.Pos, "%v", err)
			return
		}
		for _, pr := range ps {
			list := p.Predicates
			if pr.Element == "PredicateValidation" {
				list = p.PredicateValidations
			}
			pos := p.Pos
			if n := byID(list, pr.Element, pr.ID, pr.Msg == "duplicate Id"); n != nil {
				pos = n.Pos
			}
			c.add(pos, "%s", pr.Error())
		}
		return
	}
	p.PredicateSet = set
}

// byID is the container's child element with the name and Id: the first,
// or the second when the problem is that there are two.
func byID(list *tfxml.Node, name, id string, second bool) *tfxml.Node {
	if list == nil {
		return nil
	}
	var found *tfxml.Node
	for _, k := range list.KidsNamed(name) {
		if k.Attr("Id") != id {
			continue
		}
		if !second || found != nil {
			return k
		}
		found = k
	}
	return found
}
