package admin

import "sync"

// feed is a bounded broadcast ring: publishers append, any number of
// readers follow by sequence number. Item i (1, 2, 3 …) is kept until
// len(buf) newer ones replaced it; a reader that fell behind learns how
// many it lost. Every method is safe for concurrent use: mu guards all
// fields, and wake — closed and replaced by each publish — tells waiting
// readers that something new is there.
type feed[T any] struct {
	mu   sync.Mutex
	buf  []T
	last uint64 // sequence number of the newest item (0: none yet)
	wake chan struct{}
}

func newFeed[T any](size int) *feed[T] {
	return &feed[T]{buf: make([]T, max(size, 1)), wake: make(chan struct{})}
}

// publish appends items and wakes the readers.
func (f *feed[T]) publish(items ...T) {
	if len(items) == 0 {
		return
	}
	f.mu.Lock()
	for _, it := range items {
		f.last++
		f.buf[(f.last-1)%uint64(len(f.buf))] = it
	}
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// since returns the kept items after sequence number after (at most limit
// when limit > 0, oldest first), the sequence number of the last one
// returned (after itself when none), how many after it were lost to
// overwriting, and a channel closed by the next publish.
func (f *feed[T]) since(after uint64, limit int) (items []T, last, lost uint64, wake <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	first := after + 1
	if n := uint64(len(f.buf)); f.last > n && first < f.last-n+1 {
		lost = f.last - n + 1 - first
		first = f.last - n + 1
	}
	end := f.last
	if limit > 0 && end >= first && end-first+1 > uint64(limit) {
		end = first + uint64(limit) - 1
	}
	for seq := first; seq <= end; seq++ {
		items = append(items, f.buf[(seq-1)%uint64(len(f.buf))])
	}
	last = max(after, end)
	if end < first {
		last = after
	}
	return items, last, lost, f.wake
}

// newest returns the sequence number of the newest item.
func (f *feed[T]) newest() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}
