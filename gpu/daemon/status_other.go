//go:build !linux

package daemon

import (
	"os"
	"sync/atomic"

	"github.com/gmkernel/gmk/bridge"
)

// statusPage needs memfd_create: the daemon runs on Linux only. Elsewhere
// its constructors return bridge.ErrUnsupported.
type statusPage struct{ f *os.File }

const maxCells = 0

func newStatusPage() (*statusPage, error)          { return nil, bridge.ErrUnsupported }
func openStatusPage(*os.File) (*statusPage, error) { return nil, bridge.ErrUnsupported }
func (p *statusPage) cell(int) *atomic.Uint64      { return nil }
func (p *statusPage) index(*atomic.Uint64) int     { return -1 }
func (p *statusPage) close() error                 { return nil }
