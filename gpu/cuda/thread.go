//go:build cuda

package cuda

import "runtime"

// thread is a goroutine locked to its OS thread that makes every driver
// call of one booted kernel. The driver's current context is per OS thread
// (Open makes the kernel's current on the calling thread), while a
// Backend's methods come from any goroutine — the system's, the watchdog's,
// or, in the GPU daemon, whichever goroutine runs the kernel actor's
// mailbox. So a Backend hands each driver call to its kernel's thread.
//
// One owner starts and ends it (Backend.Boot; Halt and Reset); do may be
// called from any goroutine until end begins, never after.
type thread struct {
	calls chan func()
	done  chan struct{} // closed when the goroutine has returned
}

// newThread starts a thread.
func newThread() *thread {
	t := &thread{calls: make(chan func()), done: make(chan struct{})}
	go t.loop()
	return t
}

// loop runs the calls in the order they come. The goroutine stays locked
// to its thread until it returns, so the OS thread ends with it, and with
// it whatever driver state was bound to the thread.
func (t *thread) loop() {
	runtime.LockOSThread()
	defer close(t.done)
	for f := range t.calls {
		f()
	}
}

// do runs f on the thread and returns its error. Calls from several
// goroutines run one at a time.
func (t *thread) do(f func() error) error {
	errc := make(chan error, 1)
	t.calls <- func() { errc <- f() }
	return <-errc
}

// end lets the calls already handed over finish, then ends the thread and
// waits until its goroutine has returned.
func (t *thread) end() {
	close(t.calls)
	<-t.done
}
