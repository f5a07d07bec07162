package graph

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

const (
	defaultTop = 100
	maxTop     = 999
	scanPage   = 500
	// maxScan bounds the accounts one filtered request reads: a filter
	// the store cannot look up answers what it found so far, with a
	// nextLink that continues the scan.
	maxScan = 20000
)

// paging reads $top (1–999, default 100) and $skiptoken (the key the
// previous page ended at); false: an error was written.
func (a *API) paging(q *request) (top int, token string, ok bool) {
	v := q.r.URL.Query()
	top = defaultTop
	if s := v.Get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTop {
			a.fail(q, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+s+"'. Must be between 1 and 999 inclusive.")
			return 0, "", false
		}
		top = n
	}
	if s := v.Get("$skiptoken"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) > 64 {
			a.fail(q, http.StatusBadRequest, "Request_BadRequest", "The $skiptoken is not one this API gave.")
			return 0, "", false
		}
		token = string(b)
	}
	return top, token, true
}

func (a *API) list(q *request) {
	v := q.r.URL.Query()
	props, ok := a.selection(q)
	if !ok {
		return
	}
	top, after, ok := a.paging(q)
	if !ok {
		return
	}
	f, err := parseFilter(v.Get("$filter"), a)
	if err != nil {
		a.fail(q, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	counting := strings.EqualFold(v.Get("$count"), "true")
	if counting && !strings.EqualFold(q.r.Header.Get("ConsistencyLevel"), "eventual") {
		a.fail(q, http.StatusBadRequest, "Request_BadRequest", "$count is only supported with the header ConsistencyLevel: eventual.")
		return
	}
	ctx := q.r.Context()
	var users []*store.User
	next := ""
	switch {
	case f.id != "":
		// A lookup by key: one account or none.
		u, err := a.o.Users.Get(ctx, strings.ToLower(f.id))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			a.storeFailed(q, err)
			return
		}
		if u != nil && u.ID > after && f.match(u) {
			users = append(users, u)
		}
	case f.identity != nil:
		// Identities are unique: at most one account per sign-in type.
		for _, typ := range f.identity.types {
			u, err := a.o.Users.GetByIdentity(ctx, typ, f.identity.issuer, f.identity.assigned)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				a.storeFailed(q, err)
				return
			}
			if u != nil && u.ID > after && f.match(u) && !slices.ContainsFunc(users, func(x *store.User) bool { return x.ID == u.ID }) {
				users = append(users, u)
			}
		}
		slices.SortFunc(users, func(x, y *store.User) int { return strings.Compare(x.ID, y.ID) })
	default:
		scanned := 0
		cursor := after
	scan:
		for {
			page, err := a.o.Users.Page(ctx, cursor, scanPage)
			if err != nil {
				a.storeFailed(q, err)
				return
			}
			for _, u := range page {
				cursor = u.ID
				scanned++
				if f.match(u) {
					users = append(users, u)
					if len(users) == top {
						next = u.ID
						break scan
					}
				}
				if scanned >= maxScan {
					next = u.ID
					break scan
				}
			}
			if len(page) < scanPage {
				break
			}
		}
	}
	out := map[string]any{"@odata.context": a.contextURL(q)}
	if counting {
		n, err := a.countMatching(q, f)
		if err != nil {
			a.storeFailed(q, err)
			return
		}
		out["@odata.count"] = n
	}
	list := make([]map[string]any, 0, len(users))
	for _, u := range users {
		list = append(list, a.object(u, props))
	}
	out["value"] = list
	if next != "" {
		// The same query from the last account returned (keyset paging:
		// stable while accounts are added or removed).
		nv := url.Values{}
		for k, vals := range v {
			if k != "$skiptoken" {
				nv[k] = vals
			}
		}
		nv.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(next)))
		out["@odata.nextLink"] = a.baseURL(q) + "/users?" + nv.Encode()
	}
	a.writeJSON(q, http.StatusOK, out)
}

// countMatching counts the accounts a filter matches (all of them without
// one).
func (a *API) countMatching(q *request, f *filter) (int, error) {
	ctx := q.r.Context()
	if f.always {
		return a.o.Users.Count(ctx)
	}
	n, cursor := 0, ""
	for {
		page, err := a.o.Users.Page(ctx, cursor, scanPage)
		if err != nil {
			return 0, err
		}
		for _, u := range page {
			cursor = u.ID
			if f.match(u) {
				n++
			}
		}
		if len(page) < scanPage {
			return n, nil
		}
	}
}
