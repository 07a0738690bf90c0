//go:build !linux

package bridge

import "os"

// Shm is the shared-memory transport; it needs memfd_create, so it exists only
// on Linux. Elsewhere its constructors return ErrUnsupported.
type Shm struct {
	*ringTransport
	f *os.File
}

// NewShm returns ErrUnsupported off Linux.
func NewShm(Config) (*Shm, error) { return nil, ErrUnsupported }

// OpenShm returns ErrUnsupported off Linux.
func OpenShm(*os.File) (*Shm, error) { return nil, ErrUnsupported }

// File returns the region's file (nil off Linux).
func (s *Shm) File() *os.File { return s.f }

// Reformat returns ErrUnsupported off Linux.
func (s *Shm) Reformat(Epoch) (*Shm, error) { return nil, ErrUnsupported }
