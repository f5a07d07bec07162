package gateway

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/internal/config"
)

// state is one loaded configuration: everything a request needs, built
// completely before it is published and never changed afterwards.
type state struct {
	cfg      *config.Gateway
	env      *apim.Env
	apis     []*apiRoute // longest path first
	products []*product
	keys     map[[32]byte]*subKey
	trusted  []netip.Prefix
	stores   *stores
	loadedAt time.Time

	// refs counts requests using this state; retiredBit is added when a
	// newer state replaced it. The state's own resources are released when
	// it is retired and unused.
	refs      atomic.Int64
	closeOnce sync.Once
	closers   []func()
}

const retiredBit = int64(1) << 62

func (s *state) acquire() bool {
	if s.refs.Add(1)&retiredBit != 0 {
		s.release()
		return false
	}
	return true
}

func (s *state) release() {
	if s.refs.Add(-1) == retiredBit {
		s.closeOnce.Do(s.close)
	}
}

// retire marks s replaced by next (nil: by nothing, the gateway closed).
// Stores that next does not share are closed once the last request using s
// is done.
func (s *state) retire(next *state) {
	if s.stores != nil && (next == nil || next.stores != s.stores) {
		s.closers = append(s.closers, s.stores.close)
	}
	if s.refs.Add(retiredBit) == retiredBit {
		s.closeOnce.Do(s.close)
	}
}

func (s *state) close() {
	for _, c := range s.closers {
		c()
	}
}
