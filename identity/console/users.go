package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// user is the part of a Graph user the console shows.
type user struct {
	ID                     string     `json:"id"`
	DisplayName            string     `json:"displayName"`
	GivenName              string     `json:"givenName"`
	Surname                string     `json:"surname"`
	Mail                   string     `json:"mail"`
	AccountEnabled         *bool      `json:"accountEnabled"`
	CreatedDateTime        string     `json:"createdDateTime"`
	Identities             []identity `json:"identities"`
	PasswordPolicies       string     `json:"passwordPolicies"`
	UserPrincipalName      string     `json:"userPrincipalName"`
	LastPasswordChangeTime string     `json:"lastPasswordChangeDateTime"`
}

type identity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// Enabled reports accountEnabled (absent: enabled).
func (u user) Enabled() bool { return u.AccountEnabled == nil || *u.AccountEnabled }

// SignInName is the account's local sign-in name, else its first identity.
func (u user) SignInName() string {
	for _, i := range u.Identities {
		if i.SignInType == "emailAddress" || i.SignInType == "userName" {
			return i.IssuerAssignedID
		}
	}
	if len(u.Identities) > 0 {
		return u.Identities[0].Issuer
	}
	return ""
}

const userSelect = "id,displayName,givenName,surname,mail,accountEnabled,createdDateTime,identities,passwordPolicies,userPrincipalName"

// users serves /users, /users/new and /users/{id}.
func (c *Console) users(q *req, segs []string) {
	post := q.r.Method == http.MethodPost
	switch {
	case len(segs) == 0 && !post:
		c.userList(q)
	case len(segs) == 0 && post:
		c.userCreate(q)
	case len(segs) == 1 && segs[0] == "new" && !post:
		c.render(q.w, q.r, q, http.StatusOK, "user-new", "New user", userForm{})
	case len(segs) == 1 && !post:
		c.userDetail(q, segs[0], "", http.StatusOK)
	case len(segs) == 1 && post:
		c.userChange(q, segs[0])
	default:
		c.problem(q.w, q.r, q, http.StatusNotFound, "There is no such page in the console.")
	}
}

type userListView struct {
	Query string `json:"query"`
	Users []user `json:"users"`
	Count int    `json:"count,omitempty"`
	Next  string `json:"next,omitempty"` // the next page's skip token
	Error string `json:"error,omitempty"`
}

// userList lists and searches users: an address finds the account by its
// sign-in identity, other text by the start of the display name.
func (c *Console) userList(q *req) {
	v := userListView{Query: strings.TrimSpace(q.r.URL.Query().Get("q"))}
	gq := url.Values{"$top": {"25"}, "$select": {userSelect}}
	if t := q.r.URL.Query().Get("next"); t != "" {
		gq.Set("$skiptoken", t)
	}
	switch {
	case strings.Contains(v.Query, "@"):
		gq.Set("$filter", "identities/any(c:c/issuerAssignedId eq "+odataQuote(v.Query)+" and c/issuer eq "+odataQuote(c.o.Registry.Domain())+")")
	case v.Query != "":
		gq.Set("$filter", "startswith(displayName,"+odataQuote(v.Query)+")")
	}
	var page struct {
		Value []user `json:"value"`
		Next  string `json:"@odata.nextLink"`
	}
	if err := c.graphCall(q, http.MethodGet, "users", gq, nil, &page); err != nil {
		if !c.graphFailed(q, err) {
			return
		}
		v.Error = err.Error()
	}
	v.Users, v.Next = page.Value, skipToken(page.Next)
	var n int
	if v.Query == "" && c.graphCall(q, http.MethodGet, "users/$count", nil, nil, &n) == nil {
		v.Count = n
	}
	c.render(q.w, q.r, q, http.StatusOK, "users", "Users", v)
}

// userForm is the new-user form (the password is never shown back).
type userForm struct {
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	GivenName   string `json:"givenName,omitempty"`
	Surname     string `json:"surname,omitempty"`
	ForceChange bool   `json:"forceChangePasswordNextSignIn"`
	Error       string `json:"error,omitempty"`
}

func (c *Console) userCreate(q *req) {
	f := userForm{Email: strings.TrimSpace(q.r.PostFormValue("email")), DisplayName: strings.TrimSpace(q.r.PostFormValue("displayName")),
		GivenName: strings.TrimSpace(q.r.PostFormValue("givenName")), Surname: strings.TrimSpace(q.r.PostFormValue("surname")),
		ForceChange: q.r.PostFormValue("forceChangePasswordNextSignIn") == "on"}
	body := map[string]any{"displayName": f.DisplayName, "accountEnabled": true,
		"identities":      []identity{{SignInType: "emailAddress", Issuer: c.o.Registry.Domain(), IssuerAssignedID: f.Email}},
		"passwordProfile": map[string]any{"password": q.r.PostFormValue("password"), "forceChangePasswordNextSignIn": f.ForceChange}}
	if f.GivenName != "" {
		body["givenName"] = f.GivenName
	}
	if f.Surname != "" {
		body["surname"] = f.Surname
	}
	if f.Email != "" {
		body["mail"] = f.Email
	}
	var created user
	if err := c.graphCall(q, http.MethodPost, "users", nil, body, &created); err != nil {
		if !c.graphFailed(q, err) {
			return
		}
		f.Error = err.Error()
		c.render(q.w, q.r, q, http.StatusBadRequest, "user-new", "New user", f)
		return
	}
	c.done(q, "/users/"+created.ID, "created", http.StatusCreated, created)
}

type userView struct {
	User    user        `json:"user"`
	SignIns []signInRow `json:"signIns"`
	Message string      `json:"message,omitempty"`
	Error   string      `json:"error,omitempty"`
}

// signInRow is a line of a sign-in history.
type signInRow struct {
	Time   string `json:"time"`
	App    string `json:"appId"`
	IP     string `json:"ipAddress"`
	Result string `json:"result"`
	Event  string `json:"event"`
	Failed bool   `json:"failed"`
}

func (c *Console) userDetail(q *req, id, problem string, status int) {
	var v userView
	if err := c.graphCall(q, http.MethodGet, "users/"+url.PathEscape(id), url.Values{"$select": {userSelect}}, nil, &v.User); err != nil {
		c.graphFailed(q, err)
		return
	}
	v.Error = problem
	v.Message = doneMessages[q.r.URL.Query().Get("done")]
	v.SignIns, _ = c.signIns(q, url.Values{"$filter": {"userId eq " + odataQuote(v.User.ID)}, "$top": {"20"}})
	title := v.User.DisplayName
	if title == "" {
		title = v.User.SignInName()
	}
	c.render(q.w, q.r, q, status, "user", title, v)
}

// userChange applies one action of the user page: save the profile,
// enable, disable, set a password or delete.
func (c *Console) userChange(q *req, id string) {
	path := "users/" + url.PathEscape(id)
	var patch map[string]any
	done := "saved"
	switch action := q.r.PostFormValue("action"); action {
	case "save":
		patch = map[string]any{"displayName": strings.TrimSpace(q.r.PostFormValue("displayName")),
			"givenName": strings.TrimSpace(q.r.PostFormValue("givenName")), "surname": strings.TrimSpace(q.r.PostFormValue("surname"))}
	case "enable", "disable":
		patch, done = map[string]any{"accountEnabled": action == "enable"}, action+"d"
	case "password":
		patch = map[string]any{"passwordProfile": map[string]any{"password": q.r.PostFormValue("password"),
			"forceChangePasswordNextSignIn": q.r.PostFormValue("forceChangePasswordNextSignIn") == "on"}}
		done = "password"
	case "delete":
		if q.r.PostFormValue("confirm") != "on" {
			c.userDetail(q, id, "Tick the box to confirm the deletion.", http.StatusBadRequest)
			return
		}
		if id == q.admin.ID {
			c.userDetail(q, id, "You cannot delete the account you are signed in with.", http.StatusBadRequest)
			return
		}
		if err := c.graphCall(q, http.MethodDelete, path, nil, nil, nil); err != nil {
			if c.graphFailed(q, err) {
				c.userDetail(q, id, err.Error(), http.StatusBadRequest)
			}
			return
		}
		c.done(q, "/users", "deleted", http.StatusOK, map[string]string{"id": id, "deleted": c.o.Now().UTC().Format(time.RFC3339)})
		return
	default:
		c.problem(q.w, q.r, q, http.StatusBadRequest, "Unknown action "+quote(action)+": use save, enable, disable, password or delete.")
		return
	}
	if id == q.admin.ID && patch["accountEnabled"] == false {
		c.userDetail(q, id, "You cannot disable the account you are signed in with.", http.StatusBadRequest)
		return
	}
	if err := c.graphCall(q, http.MethodPatch, path, nil, patch, nil); err != nil {
		if c.graphFailed(q, err) {
			c.userDetail(q, id, err.Error(), http.StatusBadRequest)
		}
		return
	}
	c.done(q, "/users/"+id, done, http.StatusOK, map[string]string{"id": id, "result": done})
}

// graphFailed answers a directory error that is not the form's fault (not
// found, throttled, unavailable) and reports false; a validation error
// (400) is left for the page to show, reporting true.
func (c *Console) graphFailed(q *req, err error) bool {
	var ge *graphError
	if errors.As(err, &ge) && ge.Status == http.StatusBadRequest {
		return true
	}
	status, msg := http.StatusInternalServerError, "The directory could not be read: "+err.Error()
	if ge != nil {
		status, msg = ge.Status, ge.Message
	}
	c.problem(q.w, q.r, q, status, msg)
	return false
}

// doneMessages are the confirmations shown after a change (?done=).
var doneMessages = map[string]string{
	"created": "The user was created.", "saved": "The changes were saved.", "enabled": "The account is enabled.",
	"disabled": "The account is disabled: its sessions and refresh tokens no longer work.",
	"password": "The password was set.", "deleted": "The user was deleted. It can be restored for 30 days (Graph: /directory/deletedItems).",
	"key": "The key was added.", "policy": "The policy was checked and saved.",
}

func quote(s string) string { return "\"" + s + "\"" }
