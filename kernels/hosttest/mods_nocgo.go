//go:build !cgo

package hosttest

import "github.com/gmkernel/gmk/kernel/task"

// Without cgo OpenMods fails first; these are never reached.

func modsReset(*ModsConfig)                                        {}
func modsRun(task.Task, []byte, uint64, int, []byte) (Step, error) { return Step{}, ErrNoCgo }

const modsBuf = 0

func modsLive() int        { return 0 }
func modsStat(uint32) Stat { return Stat{} }
