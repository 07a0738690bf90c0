package nic

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go) and sizes.
const (
	DefaultRxType   = 974
	DefaultTxType   = 975
	DefaultMaxFrame = 16 << 10
	DefaultMaxConns = 1024
	DefaultTxQueue  = 256
)

// Config configures the nic module. Zero fields take their defaults.
type Config struct {
	Name     string // module name; default "nic"
	TCP      string // TCP listen address; default "127.0.0.1:0"; "off" = none
	UDP      string // UDP listen address; default "127.0.0.1:0"; "off" = none
	Rx       string // receive channel; default "net.rx"
	Tx       string // send channel; default "net.tx"
	RxType   uint32 // default DefaultRxType
	TxType   uint32 // default DefaultTxType
	Slots    int    // capacity of both channels; 0 = the kernel's default
	MaxFrame int    // largest rx payload (a TCP read, a datagram); default 16 KiB
	MaxConns int    // endpoints (TCP connections + UDP peers) at once; default 1024
	TxQueue  int    // sends queued per endpoint; default 256
	Tenant   int    // tenant of the rx tasks and their payloads; default 0
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "nic")
	c.TCP = cmp.Or(c.TCP, "127.0.0.1:0")
	c.UDP = cmp.Or(c.UDP, "127.0.0.1:0")
	c.Rx = cmp.Or(c.Rx, "net.rx")
	c.Tx = cmp.Or(c.Tx, "net.tx")
	c.RxType = cmp.Or(c.RxType, DefaultRxType)
	c.TxType = cmp.Or(c.TxType, DefaultTxType)
	c.MaxFrame = cmp.Or(c.MaxFrame, DefaultMaxFrame)
	c.MaxConns = cmp.Or(c.MaxConns, DefaultMaxConns)
	c.TxQueue = cmp.Or(c.TxQueue, DefaultTxQueue)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case c.MaxFrame < 1 || c.MaxFrame > 64<<10:
		return fmt.Errorf("nic: max frame %d out of range [1, 64 KiB]", c.MaxFrame)
	case c.MaxConns < 1 || c.MaxConns > 1<<20:
		return fmt.Errorf("nic: max endpoints %d out of range [1, 1M]", c.MaxConns)
	case c.TxQueue < 1:
		return fmt.Errorf("nic: tx queue %d below 1", c.TxQueue)
	case c.TCP == "off" && c.UDP == "off":
		return fmt.Errorf("nic: neither TCP nor UDP")
	case c.Slots < 0 || c.Tenant < 0:
		return fmt.Errorf("nic: slots %d or tenant %d below zero", c.Slots, c.Tenant)
	}
	return nil
}

// NIC is a nic module instance. Its sockets live from Init to Fini.
type NIC struct {
	cfg Config
	k   *kernel.Kernel
	rx  sdk.Port

	ctx    context.Context // ends at Fini: stops the emitters' waits
	cancel context.CancelFunc
	wg     sync.WaitGroup // the socket goroutines
	tcp    net.Listener
	udp    *net.UDPConn
	udpq   chan txItem // sends to UDP peers, drained by the UDP writer

	mu     sync.Mutex           // guards the endpoint table and closed
	closed bool                 // set by stop: no send is queued afterwards
	eps    map[uint32]*endpoint // endpoint id → endpoint
	peers  map[netip.AddrPort]uint32
	nextID uint32
}

// New returns a nic instance (no socket is opened before Init).
func New(cfg Config) (*NIC, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &NIC{cfg: cfg}, nil
}

// Module returns the nic module of a new instance. An invalid configuration
// makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	n, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return n.Module()
}

// TCPAddr returns the TCP listener's address (nil before Init or when off).
func (n *NIC) TCPAddr() net.Addr {
	if n.tcp == nil {
		return nil
	}
	return n.tcp.Addr()
}

// UDPAddr returns the UDP socket's address (nil before Init or when off).
func (n *NIC) UDPAddr() net.Addr {
	if n.udp == nil {
		return nil
	}
	return n.udp.LocalAddr()
}

// Module returns the instance's kernel module.
func (n *NIC) Module() kernel.Module {
	c := n.cfg
	return kernel.Module{Name: c.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: c.TxType, Name: "tx", Fn: n.tx}},
		Channels: []kernel.ChanDecl{
			{Name: c.Rx, Dir: kernel.Produce, Type: c.RxType, Guarantee: kernel.Lossless, Slots: c.Slots},
			{Name: c.Tx, Dir: kernel.Consume, Type: c.TxType, Guarantee: kernel.Lossless, Slots: c.Slots},
		},
		Init: n.init,
		Fini: func(*kernel.Ctx) error { n.stop(); return nil },
	}
}

func (n *NIC) init(c *kernel.Ctx) (err error) {
	n.k = c.Kernel()
	if n.rx, err = sdk.Dial(n.k, n.cfg.Rx); err != nil {
		return err
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.mu.Lock()
	n.eps, n.peers, n.closed = map[uint32]*endpoint{}, map[netip.AddrPort]uint32{}, false
	n.mu.Unlock()
	if n.cfg.TCP != "off" {
		if n.tcp, err = net.Listen("tcp", n.cfg.TCP); err != nil {
			n.stop()
			return fmt.Errorf("nic: %w", err)
		}
		n.wg.Add(1)
		go n.accept()
	}
	if n.cfg.UDP != "off" {
		addr, err := net.ResolveUDPAddr("udp", n.cfg.UDP)
		if err == nil {
			n.udp, err = net.ListenUDP("udp", addr)
		}
		if err != nil {
			n.stop()
			return fmt.Errorf("nic: %w", err)
		}
		n.udpq = make(chan txItem, n.cfg.TxQueue)
		n.wg.Add(2)
		go n.udpRead()
		go n.udpWrite()
	}
	return nil
}

// stop closes every socket, ends the goroutines and waits for them; sends
// still queued are released (their payloads are the kernel's).
func (n *NIC) stop() {
	n.mu.Lock()
	n.closed = true
	eps := make([]*endpoint, 0, len(n.eps))
	for _, ep := range n.eps {
		eps = append(eps, ep)
	}
	n.mu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	if n.tcp != nil {
		_ = n.tcp.Close()
	}
	if n.udp != nil {
		_ = n.udp.Close()
	}
	for _, ep := range eps {
		n.closeEP(ep)
	}
	n.wg.Wait()
}
