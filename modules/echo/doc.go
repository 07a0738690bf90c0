// Package echo is the echo module ([U2], [G5]): every task that arrives on
// its input channel goes back out on its output channel, unchanged.
//
// # Channel contract
//
//	echo.in   consumed; P2P, lossless; type InType (default 960)
//	          any meta0, meta1, payload
//	echo.out  produced; P2P, lossless; type OutType (default 961)
//	          the same meta0, meta1, tenant, priority and payload —
//	          the payload forwarded zero-copy (same arena block)
//
// Order: echo.out carries the tasks in echo.in order (the subscription
// runs one task at a time). Backpressure: while echo.out is full, echo stops
// draining echo.in (the kernel's flow control for lossless outputs), so a
// full output never loses a task and never fails one. Failure codes: none
// of its own; a closed echo.out fails the task with CHAN_CLOSED.
//
// Echo is the smallest complete module: a round-trip probe for latency and
// for the bridge, and the template for new modules.
//
// # Concurrency
//
// The module keeps no state beyond the output port resolved in Init.
package echo
