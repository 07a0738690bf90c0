package kernel

import "sync/atomic"

// stageModule is a pipeline stage shared by tests and benchmarks: it consumes
// channel in (type typ; "" = direct tasks of type typ) and emits each task on
// lossless channel out as type typ+1 with Meta0+1; out == "" makes it the
// sink, which counts into done.
func stageModule(name, in, out string, typ uint32, done *atomic.Int64) Module {
	var outID ChanID
	m := Module{Name: name}
	m.Handlers = []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		if outID == 0 {
			done.Add(1)
			return OK
		}
		x := *c.Task()
		x.Type, x.Meta0 = typ+1, x.Meta0+1
		if c.ChanEmit(outID, x) != nil {
			return Retry
		}
		return OK
	}}}
	if in != "" {
		m.Channels = append(m.Channels, ChanDecl{Name: in, Dir: Consume, Type: typ, Guarantee: Lossless})
	}
	if out != "" {
		m.Channels = append(m.Channels, ChanDecl{Name: out, Dir: Produce, Type: typ + 1, Guarantee: Lossless})
		m.Init = func(c *Ctx) (err error) { outID, err = c.Kernel().Chan(out); return err }
	}
	return m
}
