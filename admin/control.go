package admin

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
	"github.com/gmkernel/gmk/modules/kv"
)

// emitWait bounds how long an emit waits for room on a full channel or
// ready queue.
const emitWait = 5 * time.Second

// emit makes one task from an EmitRequest ([U5] gmk emit): submitted by
// type, or emitted on a channel.
func (s *Server) emit(r *http.Request) (any, error) {
	var req EmitRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	tk, err := s.kernelByID(req.Kernel)
	if err != nil {
		return nil, err
	}
	k := tk.K
	rt, err := s.resolveType(k, req.Type)
	if err != nil {
		return nil, err
	}
	payload, err := s.encodePayload(rt, req.Payload)
	if err != nil {
		return nil, err
	}
	if req.Tenant < 0 || req.Tenant >= k.Config().Tenants || req.Priority < 0 || req.Priority > 3 {
		return nil, badRequest("tenant %d or priority %d out of range", req.Tenant, req.Priority)
	}
	t := kernel.Task{Type: rt.id, Tenant: uint16(req.Tenant), Meta0: req.Meta0, Meta1: req.Meta1}
	t.SetPriority(req.Priority)
	if req.Trace {
		t.Flags |= kernel.EmitTrace
	}
	if len(payload) > 0 {
		h, buf, err := k.Alloc(req.Tenant, len(payload))
		if err != nil {
			return nil, &apiError{http.StatusServiceUnavailable, "allocate the payload: " + err.Error()}
		}
		copy(buf, payload)
		t.Payload, t.PayloadLen = h, uint32(len(payload))
	}
	ctx, cancel := context.WithTimeout(r.Context(), emitWait)
	defer cancel()
	if err := s.send(ctx, k, req.Chan, t); err != nil {
		if t.Payload != 0 {
			_ = k.Release(t.Payload)
		}
		return nil, err
	}
	return EmitResult{Kernel: k.ID(), Type: rt.id, TypeName: rt.name, Chan: req.Chan, PayloadLen: len(payload)}, nil
}

// send emits t on channel ch, or submits it when ch is "", waiting while
// the channel or the ready queue is full. On error the payload is the
// caller's.
func (s *Server) send(ctx context.Context, k *kernel.Kernel, ch string, t kernel.Task) error {
	if ch != "" {
		id, err := k.Chan(ch)
		if err != nil {
			return notFound("%v", err)
		}
		if err := k.ChanEmitWait(ctx, id, t); err != nil {
			return &apiError{http.StatusConflict, err.Error()}
		}
		return nil
	}
	for {
		err := k.Submit(t)
		if !errors.Is(err, kernel.ErrChanFull) {
			if err != nil {
				return &apiError{http.StatusConflict, err.Error()}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return &apiError{http.StatusServiceUnavailable, "the ready queue stayed full: " + err.Error()}
		case <-time.After(time.Millisecond):
		}
	}
}

// reset clears poison ([F3]): a module's types (through the node's
// supervision tree when it has one, which restarts a stopped actor), or
// one type.
func (s *Server) reset(r *http.Request) (any, error) {
	var req ResetRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	tk, err := s.kernelByID(req.Kernel)
	if err != nil {
		return nil, err
	}
	k := tk.K
	for _, m := range k.Modules() {
		if m.Name != req.Name {
			continue
		}
		res := ResetResult{Kernel: k.ID(), Name: m.Name, Cleared: s.typeRefs(k, m.Poisoned)}
		if tk.Node != nil && isTreeModule(*tk, m.Name) {
			err = tk.Node.Reset(r.Context(), m.Name)
		} else {
			err = k.ResetModule(m.Name)
		}
		if err != nil {
			return nil, &apiError{http.StatusConflict, err.Error()}
		}
		return res, nil
	}
	rt, err := s.resolveType(k, req.Name)
	if err != nil {
		return nil, notFound("no module or type %q in kernel %s", req.Name, k.ID())
	}
	res := ResetResult{Kernel: k.ID(), Name: req.Name, Cleared: []TypeRef{}}
	if k.Poisoned(rt.id) {
		res.Cleared = append(res.Cleared, TypeRef{ID: rt.id, Name: rt.name})
	}
	if err := k.ResetType(rt.id); err != nil {
		return nil, badRequest("%v", err)
	}
	return res, nil
}

// store finds a kv store by name ("" = the only one, else "kv").
func (s *Server) store(r *http.Request, name string) (string, *kv.Store, error) {
	ks, err := s.kernelsFor(r)
	if err != nil {
		return "", nil, err
	}
	var names []string
	var only *kv.Store
	for _, k := range ks {
		for n, st := range k.Store {
			if n == name {
				return n, st, nil
			}
			names, only = append(names, n), st
		}
	}
	switch {
	case name == "" && len(names) == 1:
		return names[0], only, nil
	case len(names) == 0:
		return "", nil, notFound("no kv store is running")
	}
	sort.Strings(names)
	return "", nil, notFound("no kv store %q (stores: %v)", name, names)
}

func (s *Server) getKV(r *http.Request) (any, error) {
	q := r.URL.Query()
	if !q.Has("store") && !q.Has("key") {
		return s.kvStores(r)
	}
	name, st, err := s.store(r, q.Get("store"))
	if err != nil {
		return nil, err
	}
	if !q.Has("key") {
		out := []KVEntry{}
		for _, key := range st.Keys() {
			out = append(out, KVEntry{Store: name, Key: key})
		}
		return out, nil
	}
	key := q.Get("key")
	val, ok := st.Get([]byte(key), nil)
	if !ok {
		return nil, notFound("%s: no key %q", name, key)
	}
	v := string(val)
	return KVEntry{Store: name, Key: key, Value: &v}, nil
}

func (s *Server) kvStores(r *http.Request) (any, error) {
	ks, err := s.kernelsFor(r)
	if err != nil {
		return nil, err
	}
	out := []KVStore{}
	for _, k := range ks {
		for n, st := range k.Store {
			out = append(out, KVStore{Kernel: k.K.ID(), Store: n, Keys: st.Len()})
		}
	}
	slices.SortFunc(out, func(a, b KVStore) int { return cmp.Compare(a.Kernel+"/"+a.Store, b.Kernel+"/"+b.Store) })
	return out, nil
}

func (s *Server) putKV(r *http.Request) (any, error) {
	var e KVEntry
	if err := decode(r, &e); err != nil {
		return nil, err
	}
	if e.Value == nil || e.Key == "" {
		return nil, badRequest("a put needs a key and a value")
	}
	name, st, err := s.store(r, e.Store)
	if err != nil {
		return nil, err
	}
	if code := st.Put([]byte(e.Key), []byte(*e.Value)); code != kernel.OK {
		return nil, &apiError{http.StatusConflict, name + ": put: " + code.String()}
	}
	e.Store = name
	return e, nil
}

// setTraceLevel changes a module's trace level at run time ([O3]).
func (s *Server) setTraceLevel(r *http.Request) (any, error) {
	var tl TraceLevel
	if err := decode(r, &tl); err != nil {
		return nil, err
	}
	tk, err := s.kernelByID(tl.Kernel)
	if err != nil {
		return nil, err
	}
	lv, err := trace.ParseLevel(tl.Level)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if err := tk.K.SetTraceLevel(tl.Module, lv); err != nil {
		return nil, notFound("%v", err)
	}
	tl.Kernel, tl.Level = tk.K.ID(), lv.String()
	return tl, nil
}
