package sdk

import (
	"fmt"
	"math"

	"github.com/gmkernel/gmk/kernel"
)

// Reductions ([U1] reduce: sum/min/max/concat/custom, deterministic order).
//
// A reduction folds the elements of a group in element-index order — never
// in arrival order — so the result does not depend on which worker, warp or
// producer delivered an element first: float sums and concatenations are
// bit-identical run after run and between the CPU and GPU services.
//
// modules/reduce serves groups over channels:
//
//	reduce.in   meta0 = group (bits 32..63) | last (bit 31) | index (bits 0..30)
//	            meta1 = the element's value (sum, min, max, custom)
//	            payload = the element's bytes (concat)
//	reduce.out  meta0 = group<<32 | element count
//	            meta1 = the result (sum, min, max, custom) or the total
//	            length (concat)
//	            payload = the elements' bytes concatenated in index order (concat)
//
// The element flagged last has the highest index L of its group; the group
// completes, and its result is sent, once elements 0..L have all arrived.

// Op is a reduction operation.
type Op uint8

// Reduction operations.
const (
	OpSum    Op = iota // sum of the values (wrapping for integers)
	OpMin              // smallest value
	OpMax              // largest value
	OpConcat           // payload bytes concatenated in index order
	OpCustom           // Reducer.Fn folded from Reducer.Init in index order
)

var opNames = [...]string{"sum", "min", "max", "concat", "custom"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Kind says how a value's 64 bits are read.
type Kind uint8

// Value kinds.
const (
	KindInt   Kind = iota // int64
	KindUint              // uint64
	KindFloat             // float64 bits (math.Float64bits)
)

// Reducer is a reduction: a plain value, safe to copy and to share.
type Reducer struct {
	Op   Op
	Kind Kind
	Fn   func(acc, v uint64) uint64 // OpCustom: the step
	Init uint64                     // OpCustom: the initial accumulator
}

// Validate reports a reducer that cannot run.
func (r Reducer) Validate() error {
	switch {
	case r.Op > OpCustom:
		return fmt.Errorf("sdk: unknown reduce op %d", r.Op)
	case r.Kind > KindFloat:
		return fmt.Errorf("sdk: unknown value kind %d", r.Kind)
	case r.Op == OpCustom && r.Fn == nil:
		return fmt.Errorf("sdk: custom reduce without a function")
	}
	return nil
}

// Fold reduces vals, which are in index order. An empty vals gives 0 (Init
// for OpCustom). OpConcat folds nothing and gives 0.
func (r Reducer) Fold(vals []uint64) uint64 {
	switch r.Op {
	case OpCustom:
		acc := r.Init
		for _, v := range vals {
			acc = r.Fn(acc, v)
		}
		return acc
	case OpConcat:
		return 0
	}
	if len(vals) == 0 {
		return 0
	}
	acc := vals[0]
	for _, v := range vals[1:] {
		acc = r.step(acc, v)
	}
	return acc
}

func (r Reducer) step(acc, v uint64) uint64 {
	switch r.Kind {
	case KindFloat:
		a, b := math.Float64frombits(acc), math.Float64frombits(v)
		switch r.Op {
		case OpSum:
			return math.Float64bits(a + b)
		case OpMin:
			return math.Float64bits(math.Min(a, b))
		default:
			return math.Float64bits(math.Max(a, b))
		}
	case KindInt:
		a, b := int64(acc), int64(v)
		switch r.Op {
		case OpSum:
			return uint64(a + b)
		case OpMin:
			return uint64(min(a, b))
		default:
			return uint64(max(a, b))
		}
	}
	switch r.Op {
	case OpSum:
		return acc + v
	case OpMin:
		return min(acc, v)
	default:
		return max(acc, v)
	}
}

// MaxIndex is the largest element index a reduce.in task can carry.
const MaxIndex = 1<<31 - 1

// ElemMeta returns a reduce.in meta0.
func ElemMeta(group, index uint32, last bool) uint64 {
	m := uint64(group)<<32 | uint64(index&MaxIndex)
	if last {
		m |= 1 << 31
	}
	return m
}

// SplitElemMeta splits a reduce.in meta0.
func SplitElemMeta(meta0 uint64) (group, index uint32, last bool) {
	return uint32(meta0 >> 32), uint32(meta0) & MaxIndex, meta0&(1<<31) != 0
}

// Contribute sends element index of group (value v) to the reduce service
// at p; last marks the group's highest index.
func Contribute(c *kernel.Ctx, p Port, group, index uint32, last bool, v uint64) kernel.Status {
	return SendInline(c, p, ElemMeta(group, index, last), v)
}

// ContributeBytes sends a concat element: a copy of b.
func ContributeBytes(c *kernel.Ctx, p Port, group, index uint32, last bool, b []byte) kernel.Status {
	return SendBytes(c, p, ElemMeta(group, index, last), 0, b)
}
