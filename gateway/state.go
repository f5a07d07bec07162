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
	cfg  *config.Gateway
	env  *apim.Env
	apis []*apiRoute // longest path first
	// byFirst indexes apis by their path's first segment (lower case),
	// longest path first; apis with the empty path are under "". Routing
	// looks at one bucket, so 2,000 APIs route as fast as one.
	byFirst  map[string][]*apiRoute
	products []*product
	keys     map[[32]byte]*subKey
	trusted  []netip.Prefix
	stores   *stores
	loadedAt time.Time
	// crossDomain is the global cross-domain policy's /crossdomain.xml.
	crossDomain []byte
	// maxBody caps request bodies; maxBuffered is the gateway-wide budget
	// of bodies in memory (gateway.limits, else Options, else defaults).
	maxBody, maxBuffered int64

	// refs counts requests using this state; retiredBit is added when a
	// newer state replaced it. The state's own resources are released when
	// it is retired and unused.
	refs      atomic.Int64
	closeOnce sync.Once
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

// retire marks s replaced (or the gateway closed). Its resources are
// released once the last request using it is done; stores shared with a
// newer state stay open until that one lets them go too.
func (s *state) retire() {
	if s.refs.Add(retiredBit) == retiredBit {
		s.closeOnce.Do(s.close)
	}
}

func (s *state) close() {
	if s.stores != nil {
		s.stores.drop()
	}
}
