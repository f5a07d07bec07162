package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestCustomPolicyAccountLinking: a local account links its Facebook
// identity (testdata/link-policy.xml, B2C's documented linking with
// AddItemToAlternativeSecurityIdCollection); afterwards the pack's own
// sign-in through Facebook lands on the local account — one person, one
// account. A Facebook identity that already signs in to another account
// cannot be linked (the write's AlreadyExists, AADB2C90001, back to the app; no code).
func TestCustomPolicyAccountLinking(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	fb := newFakeFacebook(t)
	file, publicURL, _, env := starterPackConfig(t, "SocialAndLocalAccounts", callback)
	env = withFacebook(t, file, fb, env)
	const email, pw = "lin@example.com", "Correct-Horse-9"
	addTestPolicy(t, file, "link-policy.xml", env, email, pw)
	startServe(t, file, env, "identity")
	ctx := context.Background()

	// Link: local sign-in, then straight to Facebook, then the token.
	b := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1A_link_facebook", callback)
	p = b.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	c := claimsOfPage(t, ctx, b, p, conf, v, pkce)
	sub, _ := c["sub"].(string)
	if linked, _ := c["linked"].([]any); sub == "" || len(linked) != 1 || linked[0] != "facebook.com" {
		t.Fatalf("link claims %v", c)
	}
	out, _, _ := gatehouse(t, env, "users", "list", "--config", file, "--json")
	if !strings.Contains(out, `"issuer": "facebook.com"`) || !strings.Contains(out, `"issuerAssignedId": "10101"`) || strings.Count(out, `"id":`) != 1 {
		t.Fatalf("after linking, want one account with the Facebook identity:\n%s", out)
	}

	// The pack's sign-in through Facebook: the local account, silently.
	b2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, b2, publicURL, "B2C_1A_signup_signin", callback)
	p = choose(t, b2, p, publicURL, "B2C_1A_signup_signin", "FacebookExchange")
	if c := claimsOfPage(t, ctx, b2, p, conf, v, pkce); c["sub"] != sub {
		t.Fatalf("Facebook sign-in after linking: %v (want sub %s)", c, sub)
	}

	// A second local account may not take the same Facebook identity.
	const email2 = "lin2@example.com"
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email2, "--password", pw); code != 0 {
		t.Fatalf("users create: %s", errOut)
	}
	b3 := testutil.NewBrowser(t, callback, nil)
	p, _, _, _ = authorizePolicy(t, ctx, b3, publicURL, "B2C_1A_link_facebook", callback)
	p = b3.Submit(p, "next", map[string]string{"signInName": email2, "password": pw})
	if cb := b3.Callback(p); cb.Get("code") != "" || cb.Get("error") != "server_error" || !strings.Contains(cb.Get("error_description"), "AADB2C90001") {
		t.Fatalf("linking an identity of another account: %v", cb)
	}
	out, _, _ = gatehouse(t, env, "users", "list", "--config", file, "--json")
	if strings.Count(out, `"issuerAssignedId": "10101"`) != 1 {
		t.Fatalf("the Facebook identity is on two accounts:\n%s", out)
	}
}
