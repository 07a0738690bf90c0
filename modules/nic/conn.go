package nic

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Proto is an endpoint's protocol (meta0 bits 32..39).
type Proto uint8

// Protocols.
const (
	TCP Proto = 1
	UDP Proto = 2
)

// Event is what an rx task reports, or what a tx task asks (meta0 bits
// 40..47).
type Event uint8

// Events and operations.
const (
	Data  Event = 0 // rx: bytes received; tx: bytes to send
	Open  Event = 1 // rx: a TCP connection was accepted
	Close Event = 2 // rx: the connection ended; tx: close it (TCP) or forget the peer (UDP)
)

// Meta returns an rx or tx meta0.
func Meta(ep uint32, p Proto, ev Event) uint64 {
	return uint64(ep) | uint64(p)<<32 | uint64(ev)<<40
}

// Split splits an rx or tx meta0.
func Split(meta0 uint64) (ep uint32, p Proto, ev Event) {
	return uint32(meta0), Proto(meta0 >> 32), Event(meta0 >> 40)
}

// PeerMeta packs an IPv4 peer address as meta1: address<<16 | port (0 for
// other addresses).
func PeerMeta(ap netip.AddrPort) uint64 {
	a := ap.Addr().Unmap()
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(ap.Port())
}

// Peer unpacks PeerMeta.
func Peer(meta1 uint64) netip.AddrPort {
	a := netip.AddrFrom4([4]byte{byte(meta1 >> 40), byte(meta1 >> 32), byte(meta1 >> 24), byte(meta1 >> 16)})
	return netip.AddrPortFrom(a, uint16(meta1))
}

// txItem is one send: a retained payload (released after the write), or a
// close marker.
type txItem struct {
	h     uint64
	b     []byte // the payload's arena bytes, valid while h is held
	to    netip.AddrPort
	close bool
}

// endpoint is a TCP connection or a UDP peer.
type endpoint struct {
	id    uint32
	proto Proto
	conn  net.Conn       // TCP
	peer  netip.AddrPort // remote address
	q     chan txItem    // TCP: sends for the writer goroutine
	once  sync.Once
	done  chan struct{} // closed by shut
}

func (ep *endpoint) shut() {
	ep.once.Do(func() {
		close(ep.done)
		if ep.conn != nil {
			_ = ep.conn.Close()
		}
	})
}

// add registers a new endpoint; nil when the table is full or closed.
func (n *NIC) add(p Proto, conn net.Conn, peer netip.AddrPort) *endpoint {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || len(n.eps) >= n.cfg.MaxConns {
		return nil
	}
	n.nextID++
	ep := &endpoint{id: n.nextID, proto: p, conn: conn, peer: peer, done: make(chan struct{})}
	if p == TCP {
		ep.q = make(chan txItem, n.cfg.TxQueue)
	} else {
		n.peers[peer] = ep.id
	}
	n.eps[ep.id] = ep
	return ep
}

// closeEP removes ep from the table, then shuts it. After the removal no
// send can be queued for it (tx queues under mu), so a writer that drains
// after done sees every queued send.
func (n *NIC) closeEP(ep *endpoint) {
	n.mu.Lock()
	if n.eps[ep.id] == ep {
		delete(n.eps, ep.id)
		if ep.proto == UDP {
			delete(n.peers, ep.peer)
		}
	}
	n.mu.Unlock()
	ep.shut()
}

// emit sends an rx task (a copy of b as payload) and waits while net.rx is
// full or the arena has no block; false once the module stops or the kernel
// closes.
func (n *NIC) emit(meta0, meta1 uint64, b []byte) bool {
	for {
		err := sdk.EmitBytes(n.ctx, n.k, n.rx, n.cfg.Tenant, meta0, meta1, b)
		if err == nil {
			return true
		}
		if !errors.Is(err, kernel.ErrAllocFail) {
			return false
		}
		select { // the arena is full: wait for consumers to free blocks
		case <-n.ctx.Done():
			return false
		case <-time.After(100 * time.Microsecond):
		}
	}
}

func (n *NIC) accept() {
	defer n.wg.Done()
	for {
		conn, err := n.tcp.Accept()
		if err != nil {
			return // closed by stop
		}
		peer, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
		ep := n.add(TCP, conn, peer)
		if ep == nil {
			_ = conn.Close()
			continue
		}
		n.wg.Add(2)
		go n.tcpRead(ep)
		go n.tcpWrite(ep)
	}
}

func (n *NIC) tcpRead(ep *endpoint) {
	defer n.wg.Done()
	pm := PeerMeta(ep.peer)
	if n.emit(Meta(ep.id, TCP, Open), pm, nil) {
		buf := make([]byte, n.cfg.MaxFrame)
		for {
			m, err := ep.conn.Read(buf)
			if m > 0 && !n.emit(Meta(ep.id, TCP, Data), pm, buf[:m]) || err != nil {
				break
			}
		}
	}
	n.closeEP(ep)
	n.emit(Meta(ep.id, TCP, Close), pm, nil)
}

func (n *NIC) tcpWrite(ep *endpoint) {
	defer n.wg.Done()
	for {
		select {
		case it := <-ep.q:
			if it.close {
				n.closeEP(ep)
				continue
			}
			_, err := ep.conn.Write(it.b)
			_ = n.k.Release(it.h)
			if err != nil {
				n.closeEP(ep) // the reader reports the close
			}
		case <-ep.done:
			n.drain(ep.q)
			return
		}
	}
}

// drain releases the sends left in q.
func (n *NIC) drain(q chan txItem) {
	for {
		select {
		case it := <-q:
			if it.h != 0 {
				_ = n.k.Release(it.h)
			}
		default:
			return
		}
	}
}

func (n *NIC) udpRead() {
	defer n.wg.Done()
	buf := make([]byte, n.cfg.MaxFrame)
	for {
		m, from, err := n.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed by stop
		}
		n.mu.Lock()
		id, ok := n.peers[from]
		n.mu.Unlock()
		if !ok {
			ep := n.add(UDP, nil, from)
			if ep == nil {
				continue // table full: the datagram is dropped, as UDP may
			}
			id = ep.id
		}
		if !n.emit(Meta(id, UDP, Data), PeerMeta(from), buf[:m]) {
			return
		}
	}
}

func (n *NIC) udpWrite() {
	defer n.wg.Done()
	for {
		select {
		case it := <-n.udpq:
			_, _ = n.udp.WriteToUDPAddrPort(it.b, it.to) // UDP: a failed send is a lost datagram
			_ = n.k.Release(it.h)
		case <-n.ctx.Done():
			n.drain(n.udpq)
			return
		}
	}
}

// tx handles net.tx (the contract is in doc.go).
func (n *NIC) tx(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	id, _, op := Split(t.Meta0)
	n.mu.Lock()
	defer n.mu.Unlock()
	ep := n.eps[id]
	if n.closed || ep == nil {
		return sdk.CodeUnreachable
	}
	q := ep.q
	if ep.proto == UDP {
		q = n.udpq
	}
	it := txItem{to: ep.peer}
	switch {
	case op == Close && ep.proto == UDP:
		delete(n.eps, id)
		delete(n.peers, ep.peer)
		return kernel.OK
	case op == Close:
		it.close = true
	case op != Data:
		return sdk.CodeBadRequest
	case t.Payload == 0:
		return kernel.OK
	default:
		h, err := c.PayloadRetain()
		if err != nil {
			return sdk.Code(err)
		}
		it.h, it.b = h, c.Payload()
	}
	select {
	case q <- it:
		return kernel.OK
	default: // the endpoint's queue is full: back off and retry
		if it.h != 0 {
			_ = c.PayloadRelease(it.h)
		}
		return kernel.Retry
	}
}
