package kv

import (
	"sort"
	"sync"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Store is the key-value table: a fixed number of hash buckets (a power of
// two) chaining a fixed number of entries, each with a fixed slot of
// MaxKey+MaxValue bytes. Everything is allocated by NewStore; Put, Get and
// Del never allocate, and a full table is a result (CodeFull), not growth.
// The hash is 32-bit FNV-1a of the key, the same on the GPU side, so both
// place a key in the same bucket.
//
// Concurrency: every method takes the store's mutex. Requests arrive on one
// channel subscription, so the lock is uncontended on the task path; the
// control plane (gmk kv get/put/ls) shares it.
type Store struct {
	mu      sync.Mutex
	maxKey  int
	maxVal  int
	heads   []int32 // bucket → index+1 of its first entry; 0 = empty
	entries []entry
	data    []byte  // entry i's key and value at i*(maxKey+maxVal)
	free    []int32 // stack of free entry indices
}

type entry struct {
	next int32 // index+1 of the next entry in the bucket; 0 = end
	hash uint32
	klen uint16
	vlen uint16
}

// NewStore returns an empty store of the given shape (see Config).
func NewStore(buckets, entries, maxKey, maxVal int) *Store {
	s := &Store{maxKey: maxKey, maxVal: maxVal, heads: make([]int32, buckets),
		entries: make([]entry, entries), data: make([]byte, entries*(maxKey+maxVal)),
		free: make([]int32, entries)}
	for i := range s.free {
		s.free[i] = int32(entries - 1 - i) // pop order 0, 1, 2 …
	}
	return s
}

func hash(key []byte) uint32 {
	h := uint32(2166136261)
	for _, b := range key {
		h ^= uint32(b)
		h *= 16777619
	}
	return h
}

func (s *Store) slot(i int32) []byte {
	w := s.maxKey + s.maxVal
	return s.data[int(i)*w : int(i+1)*w]
}

// find returns the index of key's entry, and the link that points to it.
func (s *Store) find(key []byte, h uint32) (idx int32, link *int32) {
	link = &s.heads[h&uint32(len(s.heads)-1)]
	for *link != 0 {
		i := *link - 1
		e := &s.entries[i]
		if e.hash == h && int(e.klen) == len(key) && string(s.slot(i)[:e.klen]) == string(key) {
			return i, link
		}
		link = &e.next
	}
	return -1, link
}

// Put sets key to val: OK, or CodeKeyTooLong, CodeValTooLong, CodeFull,
// CodeBadRequest (empty key).
func (s *Store) Put(key, val []byte) kernel.Status {
	switch {
	case len(key) == 0:
		return sdk.CodeBadRequest
	case len(key) > s.maxKey:
		return sdk.CodeKeyTooLong
	case len(val) > s.maxVal:
		return sdk.CodeValTooLong
	}
	h := hash(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, link := s.find(key, h)
	if i < 0 {
		if len(s.free) == 0 {
			return sdk.CodeFull
		}
		i = s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		s.entries[i] = entry{hash: h, klen: uint16(len(key))}
		copy(s.slot(i), key)
		*link = i + 1 // append at the end of the chain
	}
	e := &s.entries[i]
	e.vlen = uint16(len(val))
	copy(s.slot(i)[s.maxKey:], val)
	return kernel.OK
}

// Get appends key's value to dst; found is false when the key is absent.
func (s *Store) Get(key, dst []byte) (val []byte, found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := s.find(key, hash(key))
	if i < 0 {
		return dst, false
	}
	return append(dst, s.slot(i)[s.maxKey:s.maxKey+int(s.entries[i].vlen)]...), true
}

// getAlloc copies key's value into a new payload of the handler's tenant.
func (s *Store) getAlloc(c *kernel.Ctx, key []byte) (h uint64, n int, st kernel.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := s.find(key, hash(key))
	if i < 0 {
		return 0, 0, sdk.CodeNotFound
	}
	n = int(s.entries[i].vlen)
	if n == 0 {
		return 0, 0, kernel.OK
	}
	h, b, err := c.Alloc(n)
	if err != nil {
		return 0, 0, sdk.Code(err)
	}
	copy(b, s.slot(i)[s.maxKey:])
	return h, n, kernel.OK
}

// Del removes key: OK, or CodeNotFound.
func (s *Store) Del(key []byte) kernel.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, link := s.find(key, hash(key))
	if i < 0 {
		return sdk.CodeNotFound
	}
	*link = s.entries[i].next
	s.entries[i] = entry{}
	s.free = append(s.free, i) // within capacity: no allocation
	return kernel.OK
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries) - len(s.free)
}

// Keys returns every key, sorted (control plane: it allocates).
func (s *Store) Keys() []string {
	s.mu.Lock()
	var keys []string
	for _, head := range s.heads {
		for i := head; i != 0; i = s.entries[i-1].next {
			keys = append(keys, string(s.slot(i - 1)[:s.entries[i-1].klen]))
		}
	}
	s.mu.Unlock()
	sort.Strings(keys)
	return keys
}
