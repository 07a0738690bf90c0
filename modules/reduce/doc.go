// Package reduce is the reduce module ([U2], [G5]; [U1] reduce): it folds
// the elements of each group with one operation — sum, min, max, concat or a
// custom step — in element-index order, so the result is the same whatever
// the order the elements arrived in.
//
// # Channel contract
//
//	reduce.in   consumed; P2P, lossless; type InType (default 971)
//	            meta0 = group (bits 32..63) | last (bit 31) | index (bits 0..30)
//	            meta1 = the element's value (sum, min, max, custom; read as
//	                    Reducer.Kind: int64, uint64 or float64 bits)
//	            payload = the element's bytes (concat; none = empty)
//	reduce.out  produced; P2P, lossless; type OutType (default 972)
//	            meta0 = group<<32 | element count
//	            meta1 = the result (sum, min, max, custom), or the total
//	                    length (concat)
//	            payload = the elements' bytes in index order (concat)
//
// A group opens with its first element and completes when the element
// flagged last (index L) and every index 0..L have arrived; its result is
// sent then, and the group id may be used again. The fold runs over indices
// 0..L in order (sdk.Reducer.Fold): float sums and concatenations are bit-
// for-bit reproducible and equal to the GPU module's for the same elements.
//
// Failure codes (the element is rejected, the group unchanged):
// CodeBadRequest (index >= MaxElems), CodeDuplicate (an index that arrived
// already), CodeMismatch (a second last element, an index above the last
// one, or a last element below an index seen), CodeFull (MaxGroups groups
// open), ALLOC_FAIL (no arena block for a concat result: the group is
// dropped).
//
// Backpressure: reduce.out is lossless; while it is full the module stops
// draining reduce.in, and a result that finds it full is sent when there is
// room (the completing element retries; it is not counted twice).
//
// # Concurrency and memory
//
// One mutex guards the group table; MaxGroups groups of MaxElems elements
// are allocated at New. Concat elements are retained (PayloadRetain), not
// copied, until their group completes; Fini releases the elements of groups
// still open at halt.
package reduce
