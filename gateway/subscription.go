package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/internal/config"
)

// APIM's default names of the subscription key parameters.
const (
	DefaultKeyHeader = "Ocp-Apim-Subscription-Key"
	DefaultKeyQuery  = "subscription-key"
)

// APIM's messages for subscription key failures (401).
const (
	msgKeyMissing = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to this API."
	msgKeyInvalid = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)

// product is a configured product.
type product struct {
	index    int // position in state.products
	name     string
	required bool
	apis     map[string]bool
	ctx      *expr.Product // shared, read-only
}

// subKey is one key of one subscription.
type subKey struct {
	key     []byte
	product *product
	sub     *config.Subscription
}

func keyHash(k string) [32]byte { return sha256.Sum256([]byte(k)) }

// lookupKey finds the subscription of key in constant time with respect to
// the stored keys: a map lookup on SHA-256(key), then a constant-time
// comparison of the key itself.
func (st *state) lookupKey(key string) *subKey {
	k := st.keys[keyHash(key)]
	if k == nil || subtle.ConstantTimeCompare(k.key, []byte(key)) != 1 {
		return nil
	}
	return k
}

// subscriptionKey returns the key the caller sent: the API's key header
// first, then its query parameter. Empty values count as absent.
func (a *apiRoute) subscriptionKey(r *http.Request, query url.Values) string {
	if v := r.Header.Get(a.keyHeader); v != "" {
		return v
	}
	return query.Get(a.keyQuery)
}

// access is the outcome of the subscription check.
type access struct {
	product *product // nil: API context, no product
	key     *subKey  // nil: no subscription
	used    string   // the key the caller sent
	denied  string   // non-empty: 401 with this message
}

// authorize applies APIM's subscription rules (see doc.go) to a request for
// API a with subscription key k ("" when absent).
func (st *state) authorize(a *apiRoute, k string) access {
	if k != "" {
		sk := st.lookupKey(k)
		if sk == nil || !sk.product.apis[a.name] {
			return access{denied: msgKeyInvalid}
		}
		return access{product: sk.product, key: sk, used: k}
	}
	if a.open != nil {
		return access{product: a.open}
	}
	if a.required {
		return access{denied: msgKeyMissing}
	}
	return access{}
}

// ctxSubscription is context.Subscription for key k.
func (st *state) ctxSubscription(k *subKey, used string) *expr.Subscription {
	return &expr.Subscription{
		Id:           k.sub.Name,
		Name:         k.sub.Name,
		Key:          used,
		PrimaryKey:   k.sub.PrimaryKey.Value,
		SecondaryKey: k.sub.SecondaryKey.Value,
		CreatedDate:  st.loadedAt,
	}
}
