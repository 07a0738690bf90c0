package nvme

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go) and sizes.
const (
	DefaultReadType      = 976
	DefaultWriteType     = 977
	DefaultReadRespType  = 978
	DefaultWriteRespType = 979
	DefaultErrType       = 980 // internal: the error task of a failed request
	DefaultWorkers       = 4
	DefaultQueue         = 256
	MaxIO                = 128 << 10 // largest read (the arena's largest block)
)

// File is one entry of the file table; its id is its index.
type File struct {
	Path     string
	ReadOnly bool // open read-only: writes fail with CodeReadOnly
}

// Config configures the nvme module. Zero fields take their defaults.
type Config struct {
	Name          string // module name; default "nvme"
	Read          string // default "disk.read"
	Write         string // default "disk.write"
	ReadResp      string // default "disk.read.resp"
	WriteResp     string // write completions; "" = none (errors still become error tasks)
	ReadType      uint32 // default DefaultReadType
	WriteType     uint32 // default DefaultWriteType
	ReadRespType  uint32 // default DefaultReadRespType
	WriteRespType uint32 // default DefaultWriteRespType
	ErrType       uint32 // default DefaultErrType
	Slots         int    // capacity of the channels; 0 = the kernel's default
	Files         []File // the file table
	Workers       int    // I/O goroutines; default 4
	Queue         int    // requests waiting for an I/O goroutine; default 256
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "nvme")
	c.Read = cmp.Or(c.Read, "disk.read")
	c.Write = cmp.Or(c.Write, "disk.write")
	c.ReadResp = cmp.Or(c.ReadResp, "disk.read.resp")
	c.ReadType = cmp.Or(c.ReadType, DefaultReadType)
	c.WriteType = cmp.Or(c.WriteType, DefaultWriteType)
	c.ReadRespType = cmp.Or(c.ReadRespType, DefaultReadRespType)
	c.WriteRespType = cmp.Or(c.WriteRespType, DefaultWriteRespType)
	c.ErrType = cmp.Or(c.ErrType, DefaultErrType)
	c.Workers = cmp.Or(c.Workers, DefaultWorkers)
	c.Queue = cmp.Or(c.Queue, DefaultQueue)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case len(c.Files) == 0:
		return fmt.Errorf("nvme: no files")
	case c.Workers < 1 || c.Queue < 1 || c.Slots < 0:
		return fmt.Errorf("nvme: workers %d, queue %d, slots %d out of range", c.Workers, c.Queue, c.Slots)
	}
	for i, f := range c.Files {
		if f.Path == "" {
			return fmt.Errorf("nvme: file %d has no path", i)
		}
	}
	return nil
}

// NVMe is an nvme module instance. Its files are open from Init to Fini.
type NVMe struct {
	cfg       Config
	k         *kernel.Kernel
	readResp  sdk.Port
	writeResp sdk.Port // Chan 0: no write completions

	ctx    context.Context // ends at Fini: stops the completions' waits
	cancel context.CancelFunc
	wg     sync.WaitGroup // the I/O goroutines
	files  []*os.File     // by id; nil = could not be opened (openErr says why)
	codes  []kernel.Status

	mu     sync.Mutex // guards queue sends against its close
	closed bool
	queue  chan request
}

// New returns an nvme instance (no file is opened before Init).
func New(cfg Config) (*NVMe, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &NVMe{cfg: cfg}, nil
}

// Module returns the nvme module of a new instance. An invalid configuration
// makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	d, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return d.Module()
}

// Module returns the instance's kernel module.
func (d *NVMe) Module() kernel.Module {
	c := d.cfg
	m := kernel.Module{Name: c.Name, Version: "1.0",
		Handlers: []kernel.Handler{
			{Type: c.ReadType, Name: "read", Fn: d.read},
			{Type: c.WriteType, Name: "write", Fn: d.write},
			{Type: c.ErrType, Name: "error", Fn: d.failed},
		},
		Channels: []kernel.ChanDecl{
			{Name: c.Read, Dir: kernel.Consume, Type: c.ReadType, Guarantee: kernel.Lossless, Slots: c.Slots},
			{Name: c.Write, Dir: kernel.Consume, Type: c.WriteType, Guarantee: kernel.Lossless, Slots: c.Slots},
		},
		Init: d.init,
		Fini: func(*kernel.Ctx) error { return d.stop() },
	}
	// The responses are not declared as outputs: the kernel would hold back
	// the requests until they have room, but the I/O goroutines, not the
	// request handlers, send them (and wait for room themselves).
	return m
}

func (d *NVMe) init(c *kernel.Ctx) error {
	d.k = c.Kernel()
	open := func(name string, typ uint32) (sdk.Port, error) {
		id, err := c.ChanOpen(kernel.ChanSpec{Name: name, Type: typ, Mode: kernel.P2P, Guarantee: kernel.Lossless, Slots: d.cfg.Slots})
		return sdk.Port{Chan: id, Type: typ}, err
	}
	var err error
	if d.readResp, err = open(d.cfg.ReadResp, d.cfg.ReadRespType); err != nil {
		return fmt.Errorf("nvme: %w", err)
	}
	d.writeResp = sdk.Port{}
	if d.cfg.WriteResp != "" {
		if d.writeResp, err = open(d.cfg.WriteResp, d.cfg.WriteRespType); err != nil {
			return fmt.Errorf("nvme: %w", err)
		}
	}
	d.files, d.codes = make([]*os.File, len(d.cfg.Files)), make([]kernel.Status, len(d.cfg.Files))
	for i, f := range d.cfg.Files {
		flag := os.O_RDWR | os.O_CREATE
		if f.ReadOnly {
			flag = os.O_RDONLY
		}
		d.files[i], err = os.OpenFile(f.Path, flag, 0o644)
		if err != nil {
			d.files[i], d.codes[i] = nil, code(err) // requests on it fail with this code
		}
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.mu.Lock()
	d.queue, d.closed = make(chan request, d.cfg.Queue), false
	d.mu.Unlock()
	for range d.cfg.Workers {
		d.wg.Add(1)
		go d.serve()
	}
	return nil
}

// stop closes the queue, lets the I/O goroutines finish what is queued
// (writes are written; read results can no longer be sent once the kernel
// halted and are released), waits for them and closes the files.
func (d *NVMe) stop() error {
	d.mu.Lock()
	if !d.closed && d.queue != nil {
		d.closed = true
		close(d.queue)
	}
	d.mu.Unlock()
	d.wg.Wait()
	if d.cancel != nil {
		d.cancel()
	}
	var errs []error
	for _, f := range d.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
