package roles

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/identity/console"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
	"github.com/gatehouse/gatehouse/internal/config"
)

// consolePolicies are identity.customPolicies as the console sees them:
// the configured files, checked together on the policy engine when one is
// uploaded, and replaced in place when the upload is sound. The running
// set is not swapped: a saved policy runs after a restart, as every other
// identity change does.
type consolePolicies struct {
	mu    sync.Mutex // one upload checked and saved at a time
	files []console.Policy
}

func newConsolePolicies(paths []config.Path) (*consolePolicies, error) {
	cp := &consolePolicies{}
	for _, p := range paths {
		path, data, err := readPolicyFile(p)
		if err != nil {
			return nil, err
		}
		root, err := tfxml.Parse(path, data)
		if err != nil {
			return nil, err
		}
		f := console.Policy{ID: root.Attr("PolicyId"), Path: path, RP: root.Kid("RelyingParty") != nil}
		if bp := root.Kid("BasePolicy"); bp != nil {
			f.Base = bp.KidText("PolicyId")
		}
		cp.files = append(cp.files, f)
	}
	return cp, nil
}

func (cp *consolePolicies) List() []console.Policy {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]console.Policy(nil), cp.files...)
}

// Check loads the configured files with the upload in place of the file
// of the same PolicyId (or beside them when it is new) and returns the
// problems at their file, line and column.
func (cp *consolePolicies) Check(name string, data []byte) (string, []console.PolicyError) {
	name = "upload/" + filepath.Base(name)
	root, err := tfxml.Parse(name, data)
	if err != nil {
		return "", problems(err)
	}
	id := root.Attr("PolicyId")
	if id == "" {
		return "", []console.PolicyError{{File: name, Line: root.Pos.Line, Col: root.Pos.Col, Message: "the TrustFrameworkPolicy has no PolicyId"}}
	}
	srcs := []ief.Source{{Path: name, Data: data}}
	known := false
	for _, f := range cp.List() {
		if strings.EqualFold(f.ID, id) {
			known = true
			continue
		}
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return id, []console.PolicyError{{File: f.Path, Message: err.Error()}}
		}
		srcs = append(srcs, ief.Source{Path: f.Path, Data: b})
	}
	if !known {
		return id, []console.PolicyError{{File: name, Line: root.Pos.Line, Col: root.Pos.Col,
			Message: "no configured file has PolicyId " + id + ": add the file to identity.customPolicies (uploads replace configured files)"}}
	}
	if _, err := ief.Load(srcs, ief.Options{}); err != nil {
		return id, problems(err)
	}
	return id, nil
}

// problems turns the engine's errors (config.Errors with positions) into
// the console's.
func problems(err error) []console.PolicyError {
	var es config.Errors
	var e *config.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = config.Errors{e}
	default:
		return []console.PolicyError{{Message: err.Error()}}
	}
	out := make([]console.PolicyError, 0, len(es))
	for _, e := range es {
		out = append(out, console.PolicyError{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg})
	}
	return out
}

// Save replaces the configured file of policyID, atomically (a temporary
// file renamed over it), keeping its permissions.
func (cp *consolePolicies) Save(policyID string, data []byte) (string, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, f := range cp.files {
		if !strings.EqualFold(f.ID, policyID) {
			continue
		}
		mode := os.FileMode(0o644)
		if st, err := os.Stat(f.Path); err == nil {
			mode = st.Mode().Perm()
		}
		tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".upload-*.xml")
		if err != nil {
			return "", err
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(data); err != nil {
			tmp.Close()
			return "", err
		}
		if err := tmp.Chmod(mode); err != nil {
			tmp.Close()
			return "", err
		}
		if err := tmp.Close(); err != nil {
			return "", err
		}
		return f.Path, os.Rename(tmp.Name(), f.Path)
	}
	return "", errors.New("no configured file has PolicyId " + policyID)
}
