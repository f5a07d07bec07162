package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/identity/graph"
)

// graphError is the directory API's error answer.
type graphError struct {
	Status  int
	Code    string
	Message string
}

func (e *graphError) Error() string { return e.Message + " (" + e.Code + ")" }

// graphCall calls the directory API in-process as the signed-in
// administrator: the API's own validation, per-app limit and audit log
// (which names the administrator) apply. out receives the JSON answer.
func (c *Console) graphCall(q *req, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := c.o.GraphPrefix + "/v1.0/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	gr, err := http.NewRequestWithContext(q.r.Context(), method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		gr.Header.Set("Content-Type", "application/json")
	}
	gr.Header.Set("ConsistencyLevel", "eventual")
	gr.RemoteAddr = q.r.RemoteAddr // the audit log's source address
	rec := newRecorder()
	c.o.Graph.ServeAs(rec, gr, graph.Caller{AppID: c.clientID, Actor: "user:" + q.admin.ID,
		Roles: []string{graph.RoleReadWrite, graph.RoleAuditRead}})
	if rec.status >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(rec.body.Bytes(), &e) != nil || e.Error.Code == "" {
			return &graphError{Status: rec.status, Code: "unknown", Message: fmt.Sprintf("The directory answered HTTP %d.", rec.status)}
		}
		return &graphError{Status: rec.status, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out == nil || rec.status == http.StatusNoContent {
		return nil
	}
	d := json.NewDecoder(&rec.body)
	d.UseNumber()
	return d.Decode(out)
}

// odataQuote quotes a string for a $filter (” escapes a quote).
func odataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// skipToken is the $skiptoken of an @odata.nextLink ("" when none).
func skipToken(next string) string {
	if next == "" {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil {
		return ""
	}
	return u.Query().Get("$skiptoken")
}
