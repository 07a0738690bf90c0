package admin

import (
	"strconv"
	"sync"
	"time"
)

// sampler keeps the two most recent samples of the kernels' counters, from
// which rates are computed, and the workers found stalled between them. The
// server's loop writes it (take); request handlers read it; mu orders them.
type sampler struct {
	mu      sync.Mutex
	prev    sample
	cur     sample
	stalled map[string]bool // worker key → no progress with work queued
}

type sample struct {
	at time.Time
	v  map[string]uint64
}

// Sample keys, per kernel id K.
func keyTask(k, what string) string       { return k + "/task/" + what }
func keyChan(k, name, what string) string { return k + "/chan/" + name + "/" + what }
func keyType(k string, id uint32, w string) string {
	return k + "/type/" + strconv.FormatUint(uint64(id), 10) + "/" + w
}
func keyWorker(k string, id int, w string) string { return k + "/worker/" + strconv.Itoa(id) + "/" + w }

// keyStream is a cluster channel's producer stream from member addr.
func keyStream(ch, addr string) string { return "cluster/" + ch + "/" + addr }

// take samples every counter a rate or the stall rule needs: the kernels'
// and, when the node is a cluster member, its consumers' producer streams.
func (s *sampler) take(ks []Kernel, cl ClusterMember, now time.Time) {
	v := map[string]uint64{}
	sampleStreams(v, cl)
	for _, k := range ks {
		id := k.K.ID()
		st := k.K.Stats()
		v[keyTask(id, "created")] = st.Created()
		v[keyTask(id, "completed")] = st.Completed
		v[keyTask(id, "errored")] = st.Errored
		v[keyTask(id, "dropped")] = st.Dropped
		v[keyTask(id, "retried")] = st.Retried
		v[keyTask(id, "ended")] = st.Completed + st.Errored + st.Dropped + st.Retried + st.Yielded
		for _, c := range k.K.Channels() {
			v[keyChan(id, c.Spec.Name, "emits")] = c.Stats.Emits
			v[keyChan(id, c.Spec.Name, "full")] = c.Stats.Full
			v[keyChan(id, c.Spec.Name, "drops")] = c.Stats.Drops
		}
		for _, m := range k.K.Modules() {
			for _, t := range m.Types {
				ts := k.K.TypeStats(t)
				v[keyType(id, t, "ok")] = ts.OK
				v[keyType(id, t, "fail")] = ts.Fail
			}
		}
		for _, w := range k.K.Workers() {
			v[keyWorker(id, w.ID, "wakes")] = w.Wakes
			v[keyWorker(id, w.ID, "pending")] = uint64(w.Pending)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prev, s.cur = s.cur, sample{at: now, v: v}
	s.stalled = map[string]bool{}
	if s.prev.v == nil {
		return
	}
	for _, k := range ks {
		id := k.K.ID()
		progress := s.cur.v[keyTask(id, "ended")] != s.prev.v[keyTask(id, "ended")]
		for w := range k.K.Config().Workers {
			p, c := keyWorker(id, w, "pending"), keyWorker(id, w, "wakes")
			if !progress && s.prev.v[p] > 0 && s.cur.v[p] > 0 && s.prev.v[c] == s.cur.v[c] {
				s.stalled[keyWorker(id, w, "")] = true
			}
		}
	}
}

// sampleStreams samples the tasks the consumers of cl accepted from each
// member's producer stream (cl nil: none).
func sampleStreams(v map[string]uint64, cl ClusterMember) {
	if cl == nil {
		return
	}
	for _, c := range cl.Placement().Channels {
		for _, p := range c.Producers {
			v[keyStream(c.Name, p.Member)] = p.Accepted
		}
	}
}

// rate returns the per-second rate of key between the two samples.
func (s *sampler) rate(key string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLocked(key)
}

func (s *sampler) rateLocked(key string) float64 {
	if s.prev.v == nil {
		return 0
	}
	dt := s.cur.at.Sub(s.prev.at).Seconds()
	a, b := s.prev.v[key], s.cur.v[key]
	if dt <= 0 || b < a {
		return 0
	}
	return float64(b-a) / dt
}

// isStalled reports whether worker w of kernel k was stalled at the last sample.
func (s *sampler) isStalled(k string, w int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalled[keyWorker(k, w, "")]
}
