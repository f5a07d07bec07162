package userflow

import (
	"context"
	"encoding/json"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// policyState is a custom policy's Transaction.State on the policy
// engine: the journey, and the pages' own state (the email verification
// in progress) beside it.
type policyState struct {
	Journey *journey.State `json:"journey"`
	Pages   state          `json:"pages"`
}

func (f *Flows) savePolicyState(ctx context.Context, tx *identity.Transaction, ps *policyState) error {
	b, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	tx.State = b
	return f.comp.SaveTransaction(ctx, tx)
}
