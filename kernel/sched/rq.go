package sched

import (
	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// weights are the priority weights of the RQ pop schedule ([S2], defaults
// table: 8/4/2/1). In every window of WeightSum consecutive batches a Cursor
// picks priority p exactly weights[p] times. Read-only.
var weights = [task.NumPriorities]int32{8, 4, 2, 1}

// WeightSum is the sum of the priority weights 8+4+2+1: the period, in batches,
// of the RQ pop schedule.
const WeightSum = 8 + 4 + 2 + 1

// RQ is the CPU ready queue of [S2]: four MPMC rings, one per task priority.
// Producers push a task into the ring of its priority; workers pop homogeneous
// priority batches in a weighted round robin (8/4/2/1) kept in a per-worker
// Cursor, so low priorities progress under load while high priorities get most
// of the service.
//
// Concurrency: any number of goroutines may call Push, PushBatch, PopBatch and
// Len at the same time; each Cursor belongs to one worker. The RQ itself holds
// only the four ring pointers, written once by NewRQ; the rings carry all shared
// state and their guarantees (a push synchronizes before the pop that returns
// the task). FIFO order holds within one priority, not across priorities.
type RQ struct {
	sub [task.NumPriorities]*ring.MPMC[task.Task] // written by NewRQ only
}

// NewRQ returns an empty RQ whose rings hold capacityPerPriority tasks each,
// rounded up to a power of two (at least 2). A capacity below 1 selects the
// smallest ring.
func NewRQ(capacityPerPriority int) *RQ {
	capacityPerPriority = max(capacityPerPriority, 1)
	q := &RQ{}
	for p := range q.sub {
		q.sub[p] = ring.NewMPMC[task.Task](capacityPerPriority)
	}
	return q
}

// Push copies *t into the ring of t's priority. It returns false, leaving the
// queue unchanged, when that ring is full; the caller decides what a full queue
// means (overflow, backpressure, sys.dropped).
func (q *RQ) Push(t *task.Task) bool { return q.sub[t.Priority()].Push(t) }

// PushBatch pushes a prefix of ts and returns its length. Consecutive tasks of
// the same priority go to their ring in one batch push (one index publication
// per run). It stops at the first task that does not fit, so ts[n:] is what the
// caller still owns.
func (q *RQ) PushBatch(ts []task.Task) int {
	n := 0
	for n < len(ts) {
		p := ts[n].Priority()
		end := n + 1
		for end < len(ts) && ts[end].Priority() == p {
			end++
		}
		k := q.sub[p].PushBatch(ts[n:end])
		n += k
		if n < end { // the ring of p is full: keep the prefix property
			return n
		}
	}
	return n
}

// PopBatch moves up to len(dst) tasks of one priority into dst and returns how
// many. The priority is the one c's weighted schedule picks; when that ring is
// empty the batch falls through to the next non-empty priority in cyclic order
// (p+1, p+2, … wrapping to 0), so no worker idles while work is queued. The
// schedule slot is spent on the picked priority even when the batch fell
// through, so the schedule is a fixed cycle; a call that finds every ring empty
// spends nothing.
//
// Under full load (every ring non-empty) a worker that pops full batches of B
// tasks takes, in every WeightSum consecutive calls, exactly weights[p]*B tasks
// of priority p: after 15n calls, popped[p] = n*weights[p]*B, i.e. 8:4:2:1.
func (q *RQ) PopBatch(dst []task.Task, c *Cursor) int {
	if len(dst) == 0 {
		return 0
	}
	pick := c.peek()
	p := pick
	for range task.NumPriorities {
		if n := q.sub[p].PopBatch(dst); n > 0 {
			c.spend(pick)
			return n
		}
		p = (p + 1) % task.NumPriorities
	}
	return 0
}

// Len returns the number of queued tasks, exact when no operation runs and
// approximate otherwise.
func (q *RQ) Len() int {
	n := 0
	for _, r := range q.sub {
		n += r.Len()
	}
	return n
}

// Cap returns the capacity of one priority ring.
func (q *RQ) Cap() int { return q.sub[0].Cap() }

// Cursor is one worker's position in the RQ pop schedule: the credits of a
// smooth weighted round robin (as in nginx's upstream balancer). Each batch
// adds weights[p] to every priority's credit, picks the priority with the most
// credit (ties to the higher priority) and charges it WeightSum. Credits always
// sum to zero and return to all-zero every WeightSum steps, giving the period
//
//	0 1 0 2 0 1 0 3 0 1 0 2 0 1 0
//
// so under full load priority p waits at most 2, 4, 8, 15 batches for p = 0..3.
// The zero value is the start of the cycle. A Cursor belongs to one worker and
// is not safe for concurrent use.
type Cursor struct {
	credit [task.NumPriorities]int32
}

// peek returns the priority the next batch belongs to, without spending it.
func (c *Cursor) peek() int {
	best, bestCredit := 0, c.credit[0]+weights[0]
	for p := 1; p < task.NumPriorities; p++ {
		if cr := c.credit[p] + weights[p]; cr > bestCredit {
			best, bestCredit = p, cr
		}
	}
	return best
}

// spend advances the schedule by one batch that was picked for priority pick.
func (c *Cursor) spend(pick int) {
	for p := range c.credit {
		c.credit[p] += weights[p]
	}
	c.credit[pick] -= WeightSum
}
