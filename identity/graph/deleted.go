package graph

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// DeletedRetention is how long a deleted account can be restored (B2C's
// 30 days); the identity role purges older ones.
const DeletedRetention = 30 * 24 * time.Hour

// deletedItems serves Graph's /directory/deletedItems for users: list
// (…/microsoft.graph.user), get, POST …/{id}/restore and DELETE (for good).
func (a *API) deletedItems(q *request, segs []string) {
	du := a.o.DeletedUsers
	if du == nil {
		a.fail(q, http.StatusNotFound, "Request_ResourceNotFound", "Deleted items are not kept here.")
		return
	}
	r := q.r
	write := r.Method != http.MethodGet
	if !q.has(RoleReadWrite) && (write || !q.has(RoleRead)) {
		a.fail(q, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	ctx := r.Context()
	switch {
	case len(segs) == 1 && segs[0] == "microsoft.graph.user" && r.Method == http.MethodGet:
		top, after, ok := a.paging(q)
		if !ok {
			return
		}
		page, err := du.Page(ctx, after, top)
		if err != nil {
			a.storeFailed(q, err)
			return
		}
		list := make([]map[string]any, 0, len(page))
		for _, d := range page {
			list = append(list, a.deletedObject(d))
		}
		out := map[string]any{"@odata.context": a.baseURL(q) + "/$metadata#directory/deletedItems/microsoft.graph.user", "value": list}
		if len(page) == top {
			v := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].User.ID))}}
			out["@odata.nextLink"] = a.baseURL(q) + "/directory/deletedItems/microsoft.graph.user?" + v.Encode()
		}
		a.writeJSON(q, http.StatusOK, out)
	case len(segs) == 1 && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		d, ok := a.findDeleted(q, segs[0])
		if !ok {
			return
		}
		if r.Method == http.MethodGet {
			a.writeJSON(q, http.StatusOK, a.deletedObject(d))
			return
		}
		if err := du.Delete(ctx, d.User.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.storeFailed(q, err)
			return
		}
		a.audit(q, "users.purge", d.User.ID)
		q.w.WriteHeader(http.StatusNoContent)
	case len(segs) == 2 && segs[1] == "restore" && r.Method == http.MethodPost:
		d, ok := a.findDeleted(q, segs[0])
		if !ok {
			return
		}
		u := d.User
		u.UpdatedAt = a.o.Now()
		if err := a.o.Users.Create(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				a.fail(q, http.StatusBadRequest, "Request_BadRequest", "The object cannot be restored: another account now has its id or email address.")
				return
			}
			a.storeFailed(q, err)
			return
		}
		if err := du.Delete(ctx, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.storeFailed(q, err)
			return
		}
		a.audit(q, "users.restore", u.ID)
		obj := a.object(u, append(slices.Clone(defaultSelect), "identities", "accountEnabled"))
		obj["@odata.context"] = a.contextURL(q) + "/$entity"
		a.writeJSON(q, http.StatusOK, obj)
	default:
		a.fail(q, http.StatusBadRequest, "BadRequest", "Unsupported request on deletedItems.")
	}
}

func (a *API) findDeleted(q *request, id string) (*store.DeletedUser, bool) {
	d, err := a.o.DeletedUsers.Get(q.r.Context(), id)
	if err != nil {
		a.lookupFailed(q, id, err)
		return nil, false
	}
	return d, true
}

func (a *API) deletedObject(d *store.DeletedUser) map[string]any {
	obj := a.object(d.User, append(slices.Clone(defaultSelect), "identities"))
	obj["@odata.type"] = "#microsoft.graph.user"
	obj["deletedDateTime"] = d.DeletedAt.UTC().Format(time.RFC3339)
	return obj
}
