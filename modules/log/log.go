package log

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// DefaultRecType is the default record type (modules/doc.go).
const DefaultRecType = 964

// Config configures the log module. Zero fields take their defaults.
type Config struct {
	Name    string      // module name; default "log"
	Chan    string      // record channel; default "log.write"
	RecType uint32      // default DefaultRecType
	Slots   int         // channel capacity; 0 = the kernel's default
	Level   sdk.Level   // lowest level written; default LevelDebug (all)
	Logger  *zap.Logger // where records go as zap entries; nil = none
	Writer  io.Writer   // where records go as text lines; nil = none
	Ticks   bool        // Writer lines carry the emitter's tick
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "log")
	c.Chan = cmp.Or(c.Chan, "log.write")
	c.RecType = cmp.Or(c.RecType, DefaultRecType)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	if c.Level > sdk.LevelError {
		return fmt.Errorf("log: level %d unknown", c.Level)
	}
	if c.Slots < 0 {
		return fmt.Errorf("log: slots %d below zero", c.Slots)
	}
	return nil
}

// Log is a log module instance.
type Log struct {
	cfg   Config
	level atomic.Uint32 // lowest level written; SetLevel, any goroutine
	mu    sync.Mutex    // serialises rendering and writing
	buf   []byte        // the line being rendered (under mu)
}

// New returns a log instance.
func New(cfg Config) (*Log, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, buf: make([]byte, 0, 256)}
	l.level.Store(uint32(cfg.Level))
	return l, nil
}

// Module returns the log module of a new instance. An invalid configuration
// makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	l, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return l.Module()
}

// SetLevel changes the lowest level written, at run time.
func (l *Log) SetLevel(lv sdk.Level) { l.level.Store(uint32(lv)) }

// Level returns the lowest level written.
func (l *Log) Level() sdk.Level { return sdk.Level(l.level.Load()) }

// Module returns the instance's kernel module.
func (l *Log) Module() kernel.Module {
	return kernel.Module{Name: l.cfg.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: l.cfg.RecType, Name: "write", Fn: l.handle}},
		Channels: []kernel.ChanDecl{{Name: l.cfg.Chan, Dir: kernel.Consume, Type: l.cfg.RecType,
			Guarantee: kernel.Lossy, Slots: l.cfg.Slots}},
	}
}

var zapLevels = [...]zapcore.Level{zapcore.DebugLevel, zapcore.InfoLevel, zapcore.WarnLevel, zapcore.ErrorLevel}

func (l *Log) handle(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	r, ok := sdk.ParseLog(t, c.Payload())
	if !ok || r.Level > sdk.LevelError {
		return sdk.CodeBadRequest
	}
	if uint32(r.Level) < l.level.Load() {
		return kernel.OK
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.cfg.Writer; w != nil {
		b := append(append(l.buf[:0], r.Level.String()...), ' ')
		if l.cfg.Ticks {
			b = append(strconv.AppendUint(append(b, "t="...), r.Tick, 10), ' ')
		}
		b = append(r.AppendMessage(b), '\n')
		_, _ = w.Write(b)
		l.buf = b[:0]
	}
	if z := l.cfg.Logger; z != nil {
		if ce := z.Check(zapLevels[r.Level], ""); ce != nil {
			l.buf = r.AppendMessage(l.buf[:0])
			ce.Message = string(l.buf)
			ce.Write(zap.Uint64("tick", r.Tick), zap.Uint16("tenant", t.Tenant))
		}
	}
	return kernel.OK
}
