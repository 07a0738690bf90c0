package bench

import (
	"sync"

	"github.com/gmkernel/gmk/kernel/task"
)

// The Go channel baselines: what a Go programmer writes without a framework.
// Buffered channels of chanSize tasks, one goroutine per stage or consumer,
// task.Task (48 bytes) passed by value, completion by close and a result
// channel (no polling, no sleeps). Goroutines start before the timer is reset.

// chanSize is the buffer of every baseline channel.
const chanSize = 1024

func init() {
	Register(CaseP2P, implOf(PeerChan, chanP2P))
	Register(CasePipeline3, implOf(PeerChan, chanPipeline3))
	Register(CasePipeEmit, implOf(PeerChan, chanPipeline3))
	Register(CaseFanout3, implOf(PeerChan, chanFanout3))
	Register(CaseMPMC2x2, implOf(PeerChan, chanMPMC2x2))
}

// chanConsume records every task of in and sends the tally on done once in is
// closed.
func chanConsume(in <-chan task.Task, done chan<- tally) {
	var got tally
	for v := range in {
		got.add(v, 0)
	}
	done <- got
}

// chanStage is a pipeline stage: Meta0++ and pass on; it closes out after in.
func chanStage(in <-chan task.Task, out chan<- task.Task) {
	for v := range in {
		v.Meta0++
		out <- v
	}
	close(out)
}

// chanP2P: the benchmark goroutine sends n tasks to one consumer goroutine.
func chanP2P(n int, t timer) error {
	ch := make(chan task.Task, chanSize)
	done := make(chan tally, 1)
	go chanConsume(ch, done)
	t.ResetTimer()
	for i := range n {
		ch <- item(i)
	}
	close(ch)
	got := <-done
	t.StopTimer()
	return got.check("chan p2p consumer", n)
}

// chanPipeline3: producer → stage1 → stage2 → stage3, each adding 1 to Meta0;
// stage3 counts (so three goroutines and three channels).
func chanPipeline3(n int, t timer) error {
	in := make(chan task.Task, chanSize)
	mid1 := make(chan task.Task, chanSize)
	mid2 := make(chan task.Task, chanSize)
	done := make(chan tally, 1)
	go chanStage(in, mid1)
	go chanStage(mid1, mid2)
	go func() {
		var got tally
		for v := range mid2 {
			v.Meta0++ // stage3's transform
			got.add(v, 3)
		}
		done <- got
	}()
	t.ResetTimer()
	for i := range n {
		in <- item(i)
	}
	close(in)
	got := <-done
	t.StopTimer()
	return got.check("chan pipeline3 stage3", n)
}

// chanFanout3: the producer sends each task to each of 3 subscriber channels.
func chanFanout3(n int, t timer) error {
	var subs [3]chan task.Task
	done := make(chan tally, len(subs))
	for i := range subs {
		subs[i] = make(chan task.Task, chanSize)
		go chanConsume(subs[i], done)
	}
	t.ResetTimer()
	for i := range n {
		v := item(i)
		for _, s := range subs {
			s <- v
		}
	}
	for _, s := range subs {
		close(s)
	}
	var got [3]tally
	for i := range got {
		got[i] = <-done
	}
	t.StopTimer()
	for _, g := range got {
		if err := g.check("chan fanout3 subscriber", n); err != nil {
			return err
		}
	}
	return nil
}

// chanMPMC2x2: 2 producer goroutines share one channel with 2 consumer
// goroutines; producer p sends its half of the item numbers.
func chanMPMC2x2(n int, t timer) error {
	ch := make(chan task.Task, chanSize)
	done := make(chan tally, 2)
	start := make(chan struct{})
	var producers sync.WaitGroup
	for p := range 2 {
		lo, hi := p*n/2, (p+1)*n/2
		producers.Go(func() {
			<-start
			for i := lo; i < hi; i++ {
				ch <- item(i)
			}
		})
		go chanConsume(ch, done)
	}
	t.ResetTimer()
	close(start)
	producers.Wait()
	close(ch)
	var got tally
	got.merge(<-done)
	got.merge(<-done)
	t.StopTimer()
	return got.check("chan mpmc2x2 consumers", n)
}
