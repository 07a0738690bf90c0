package ring

// Batch operations of MPMC. Both follow scan-then-CAS: from the current index
// they count the consecutive cells that are ready (free for a push, published
// for a pop), up to the request, then claim all of them with ONE CAS that moves
// the index by that count. The scan needs no lock on the cells it counted:
//
//   - a cell's seq only changes when the owner of the position it describes acts,
//     and ownership of positions index..index+k-1 is exactly what the CAS takes;
//   - if another goroutine claimed any of them since the scan, it moved the
//     index, so our CAS fails and we scan again (indices are 64-bit and only
//     grow, so there is no ABA short of 2^64 operations in between);
//   - the acquire load of each counted seq already orders us after the other
//     side's last use of that cell, so the writes/reads after the CAS are safe.
//
// The claimed cells are then written (read) and published one by one, in
// position order, so a consumer scanning behind a batch producer sees a prefix
// of the batch as soon as it is published.

// PushBatch pushes a prefix of vs and returns its length: as many elements as
// there are free cells in a row at the tail, 0 when the ring is full (or the
// oldest element's pop is still in flight). Elements are pushed in order and
// take consecutive positions, so a consumer pops them in that order.
func (r *MPMC[T]) PushBatch(vs []T) int {
	want := min(uint64(len(vs)), r.mask+1)
	if want == 0 {
		return 0
	}
	for {
		pos := r.tail.Load()
		k, d := r.scanFree(pos, want)
		if k == 0 {
			if d < 0 { // full: the cell at tail still holds the previous lap
				return 0
			}
			continue // d > 0: tail moved since we loaded it
		}
		if !r.tail.CompareAndSwap(pos, pos+k) {
			continue // another producer claimed some of pos..pos+k-1
		}
		for i := range k {
			j := (pos + i) & r.mask
			r.cells[j].val = vs[i]
			r.setSeq(j, pos+i+1) // release: publish to the consumer of pos+i
		}
		return int(k)
	}
}

// scanFree counts the cells free for positions pos, pos+1, … up to want. It
// returns the count and, for the first cell that was not free, seq minus its
// position (negative: not consumed yet; positive: already claimed).
func (r *MPMC[T]) scanFree(pos, want uint64) (k uint64, d int64) {
	for ; k < want; k++ {
		p := pos + k
		if d = int64(r.seqAt(p&r.mask) - p); d != 0 { // acquire
			break
		}
	}
	return k, d
}

// PopBatch moves up to len(dst) of the oldest elements into dst, in FIFO order,
// and returns how many: as many as there are published cells in a row at the
// head, 0 when the ring is empty (or the oldest push is still in flight).
func (r *MPMC[T]) PopBatch(dst []T) int {
	want := min(uint64(len(dst)), r.mask+1)
	if want == 0 {
		return 0
	}
	for {
		pos := r.head.Load()
		k, d := r.scanPublished(pos, want)
		if k == 0 {
			if d < 0 { // empty: nothing published at head
				return 0
			}
			continue // d > 0: head moved since we loaded it
		}
		if !r.head.CompareAndSwap(pos, pos+k) {
			continue // another consumer claimed some of pos..pos+k-1
		}
		for i := range k {
			j := (pos + i) & r.mask
			r.take(&r.cells[j], &dst[i])
			r.setSeq(j, pos+i+r.mask+1) // release: free for the producer of the next lap
		}
		return int(k)
	}
}

// scanPublished counts the cells published for positions pos, pos+1, … up to
// want. It returns the count and, for the first cell that was not published,
// seq minus (position+1) (negative: not pushed yet; positive: already popped).
func (r *MPMC[T]) scanPublished(pos, want uint64) (k uint64, d int64) {
	for ; k < want; k++ {
		p := pos + k
		if d = int64(r.seqAt(p&r.mask) - (p + 1)); d != 0 { // acquire
			break
		}
	}
	return k, d
}
