package nic_test

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/nic"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// event is an rx event the app saw.
type event struct {
	ep    uint32
	proto nic.Proto
	ev    nic.Event
	peer  netip.AddrPort
	data  string
}

// app is a server on top of the nic: it records every rx event and answers
// data with the upper-cased bytes ("close" closes the connection instead).
type app struct {
	mu     sync.Mutex
	events []event
	tx     sdk.Port
}

func (a *app) module() kernel.Module {
	return kernel.Module{Name: "app",
		Handlers: []kernel.Handler{{Type: nic.DefaultRxType, Fn: func(c *kernel.Ctx) kernel.Status {
			t := c.Task()
			ep, p, ev := nic.Split(t.Meta0)
			a.mu.Lock()
			a.events = append(a.events, event{ep, p, ev, nic.Peer(t.Meta1), string(c.Payload())})
			a.mu.Unlock()
			switch {
			case ev != nic.Data:
				return kernel.OK
			case string(c.Payload()) == "close":
				return sdk.SendInline(c, a.tx, nic.Meta(ep, p, nic.Close), 0)
			}
			return sdk.SendBytes(c, a.tx, nic.Meta(ep, p, nic.Data), 0, bytes.ToUpper(c.Payload()))
		}}},
		Channels: []kernel.ChanDecl{
			{Name: "net.rx", Dir: kernel.Consume, Type: nic.DefaultRxType, Guarantee: kernel.Lossless},
			{Name: "net.tx", Dir: kernel.Produce, Type: nic.DefaultTxType, Guarantee: kernel.Lossless},
		},
		Init: func(c *kernel.Ctx) (err error) { a.tx, err = sdk.Dial(c.Kernel(), "net.tx"); return err },
	}
}

func (a *app) snapshot() []event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]event(nil), a.events...)
}

func boot(t *testing.T, cfg nic.Config, mods ...kernel.Module) (*nic.NIC, *app, *kernel.Kernel) {
	t.Helper()
	n, err := nic.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{}
	k := modtest.Boot(t, kernel.BootConfig{}, append([]kernel.Module{n.Module(), a.module()}, mods...)...)
	return n, a, k
}

func readN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf)
}

// [U2] nic over real TCP on 127.0.0.1: an accepted connection is an open
// event with the peer's address, its bytes arrive in order as data events,
// replies sent on net.tx reach the client, a close op from the app closes
// the connection, and the client sees EOF; the app sees the close event.
func TestU2_NicTCP(t *testing.T) {
	n, a, k := boot(t, nic.Config{UDP: "off"})
	conn, err := net.Dial("tcp", n.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sent strings.Builder
	for i := range 50 {
		msg := strings.Repeat(string(rune('a'+i%26)), 1+i*37%200)
		sent.WriteString(msg)
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if got := readN(t, conn, sent.Len()); got != strings.ToUpper(sent.String()) {
		t.Fatalf("echoed %d bytes, not the upper-cased stream", len(got))
	}
	if _, err := conn.Write([]byte("close")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if m, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after a close op: read %d, %v; want EOF", m, err)
	}
	modtest.WaitFor(t, "the close event", func() bool {
		ev := a.snapshot()
		return len(ev) > 0 && ev[len(ev)-1].ev == nic.Close
	})
	ev := a.snapshot()
	local, _ := netip.ParseAddrPort(conn.LocalAddr().String())
	if ev[0].ev != nic.Open || ev[0].proto != nic.TCP || ev[0].peer != local {
		t.Fatalf("first event %+v, want an open from %v", ev[0], local)
	}
	var stream strings.Builder
	for _, e := range ev[1 : len(ev)-1] {
		if e.ev != nic.Data || e.ep != ev[0].ep {
			t.Fatalf("event %+v between open and close", e)
		}
		stream.WriteString(e.data)
	}
	if stream.String() != sent.String()+"close" {
		t.Fatalf("data events carry %d bytes, want the %d sent, in order", stream.Len(), sent.Len()+5)
	}
	if ev[len(ev)-1].ep != ev[0].ep {
		t.Fatalf("close event for endpoint %d, want %d", ev[len(ev)-1].ep, ev[0].ep)
	}
	modtest.Halt(t, k)
}

// [U2] nic over real UDP on 127.0.0.1: each datagram is one data event from
// its peer's endpoint; the reply goes back to that peer only; two peers get
// two endpoints.
func TestU2_NicUDP(t *testing.T) {
	n, a, _ := boot(t, nic.Config{TCP: "off"})
	srv := n.UDPAddr().(*net.UDPAddr)
	var clients [2]*net.UDPConn
	for i := range clients {
		c, err := net.DialUDP("udp", nil, srv)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	for round := range 3 {
		for i, c := range clients {
			msg := []byte(strings.Repeat("x", round+1) + string(rune('a'+i)))
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			buf := make([]byte, 64)
			m, err := c.Read(buf)
			if err != nil || string(buf[:m]) != strings.ToUpper(string(msg)) {
				t.Fatalf("client %d: reply %q, %v; want %q", i, buf[:m], err, bytes.ToUpper(msg))
			}
		}
	}
	ev := a.snapshot()
	eps := map[uint32]netip.AddrPort{}
	for _, e := range ev {
		if e.proto != nic.UDP || e.ev != nic.Data {
			t.Fatalf("event %+v", e)
		}
		if p, ok := eps[e.ep]; ok && p != e.peer {
			t.Fatalf("endpoint %d seen from %v and %v", e.ep, p, e.peer)
		}
		eps[e.ep] = e.peer
	}
	if len(ev) != 6 || len(eps) != 2 {
		t.Fatalf("%d events on %d endpoints, want 6 on 2", len(ev), len(eps))
	}
}

// [U2] A send to an endpoint that does not exist fails with
// CodeUnreachable on sys.error (an error task, not a crash); halting with
// a connection open leaves no goroutine and no payload behind.
func TestU2_NicUnreachableAndHalt(t *testing.T) {
	var errs modtest.Sink
	n, _, k := boot(t, nic.Config{}, errs.Module("errs", kernel.SysError, 1, modtest.LossyFan))
	conn, err := net.Dial("tcp", n.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, conn, 4); got != "PING" {
		t.Fatalf("reply %q", got)
	}
	tx, _ := sdk.Dial(k, "net.tx")
	if err := k.ChanEmit(tx.Chan, kernel.Task{Type: tx.Type, Meta0: nic.Meta(9999, nic.TCP, nic.Data)}); err != nil {
		t.Fatal(err)
	}
	if e := errs.Wait(t, 1); e[0].Code != sdk.CodeUnreachable {
		t.Fatalf("code %v, want CodeUnreachable", e[0].Code)
	}
	modtest.Halt(t, k) // the connection is still open: Fini closes it
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after halt: %v, want EOF", err)
	}
}
