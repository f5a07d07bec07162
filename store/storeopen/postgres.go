package storeopen

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres"
)

func openPostgres(ctx context.Context, url string, c config) (store.Store, error) {
	return postgres.Open(ctx, url, postgres.Options{MaxConns: c.maxConns})
}
