package sdk

import (
	"context"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/gmkernel/gmk/kernel"
)

// Logging ([U1] log with levels, limited formatting), served by modules/log.
// A record is built in the arena by the emitting handler and rendered by the
// log module, so a handler never formats strings or touches a writer — the
// same record format serves the GPU side, where printf is not an option:
//
//	meta0   = level (bits 0..7) | number of args n (bits 8..15) | format length (bits 16..47)
//	meta1   = the emitter's logical tick (Ctx.Tick)
//	payload = n little-endian uint64 args, then the format bytes
//
// The format knows these verbs, each consuming one arg: %d (int64), %u
// (uint64), %x (hex), %c (a byte), %t (bool: arg != 0), %f (float64 bits,
// shortest representation); %% is a percent sign. A verb without an arg
// renders as %!v(MISSING), an unknown verb as %!v(BAD); surplus args are
// ignored. At most MaxLogArgs args.

// Level is a log level.
type Level uint8

// Log levels.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarn
	LevelError
)

// MaxLogArgs is the most args a record carries.
const MaxLogArgs = 8

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "LEVEL(" + strconv.Itoa(int(l)) + ")"
}

// Logger sends log records to the log service at Port, dropping those below
// Min before anything is allocated. The zero Min logs everything.
type Logger struct {
	Port Port
	Min  Level
}

// Log sends a record. A log record never makes its handler retry: when the
// channel is full or the arena is out of blocks the record is dropped and
// Log returns false (the log channel is lossy; its drops are counted).
func (l Logger) Log(c *kernel.Ctx, lv Level, format string, args ...uint64) bool {
	if lv < l.Min {
		return false
	}
	n := min(len(args), MaxLogArgs)
	h, b, err := c.Alloc(8*n + len(format))
	if err != nil {
		return false
	}
	meta0 := encodeLog(b, lv, format, args[:n])
	t := kernel.Task{Type: l.Port.Type, Tenant: uint16(c.Tenant()), Meta0: meta0, Meta1: c.Tick(),
		Payload: h, PayloadLen: uint32(len(b))}
	return Send(c, l.Port.Chan, t) == kernel.OK
}

// encodeLog writes a record's payload into b (8·len(args)+len(format)
// bytes) and returns its meta0.
func encodeLog(b []byte, lv Level, format string, args []uint64) uint64 {
	for i, a := range args {
		binary.LittleEndian.PutUint64(b[8*i:], a)
	}
	copy(b[8*len(args):], format)
	return uint64(lv) | uint64(len(args))<<8 | uint64(uint32(len(format)))<<16
}

// AppendLog appends the payload of a record to dst and returns it with the
// record's meta0: records built outside a handler (see EmitLog).
func AppendLog(dst []byte, lv Level, format string, args ...uint64) (meta0 uint64, payload []byte) {
	args = args[:min(len(args), MaxLogArgs)]
	n := len(dst)
	dst = append(dst, make([]byte, 8*len(args)+len(format))...)
	return encodeLog(dst[n:], lv, format, args), dst
}

// EmitLog sends a record from outside the kernel (an actor, a service
// goroutine) to the log service at p, with tick as its tick.
func EmitLog(ctx context.Context, k *kernel.Kernel, p Port, tenant int, lv Level, tick uint64, format string, args ...uint64) error {
	meta0, b := AppendLog(nil, lv, format, args...)
	return EmitBytes(ctx, k, p, tenant, meta0, tick, b)
}

// Debug logs at LevelDebug.
func (l Logger) Debug(c *kernel.Ctx, format string, args ...uint64) bool {
	return l.Log(c, LevelDebug, format, args...)
}

// Info logs at LevelInfo.
func (l Logger) Info(c *kernel.Ctx, format string, args ...uint64) bool {
	return l.Log(c, LevelInfo, format, args...)
}

// Warn logs at LevelWarn.
func (l Logger) Warn(c *kernel.Ctx, format string, args ...uint64) bool {
	return l.Log(c, LevelWarn, format, args...)
}

// Error logs at LevelError.
func (l Logger) Error(c *kernel.Ctx, format string, args ...uint64) bool {
	return l.Log(c, LevelError, format, args...)
}

// I, F and B turn an int, a float64 and a bool into log args.
func I(v int) uint64 { return uint64(int64(v)) }

// F returns the arg of a float64 (for %f).
func F(v float64) uint64 { return math.Float64bits(v) }

// B returns the arg of a bool (for %t).
func B(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// LogRecord is a decoded record: views into the payload, no copies.
type LogRecord struct {
	Level  Level
	Tick   uint64
	Format []byte
	args   []byte // n little-endian uint64s
}

// NArgs returns the number of args.
func (r *LogRecord) NArgs() int { return len(r.args) / 8 }

// Arg returns arg i.
func (r *LogRecord) Arg(i int) uint64 { return binary.LittleEndian.Uint64(r.args[8*i:]) }

// ParseLog decodes the record carried by task t with payload p. ok is false
// when the lengths in meta0 disagree with the payload (CodeBadRequest).
func ParseLog(t *kernel.Task, p []byte) (r LogRecord, ok bool) {
	n, fl := int(uint8(t.Meta0>>8)), int(uint32(t.Meta0>>16))
	if n > MaxLogArgs || 8*n+fl != len(p) {
		return LogRecord{}, false
	}
	return LogRecord{Level: Level(t.Meta0), Tick: t.Meta1, Format: p[8*n:], args: p[:8*n]}, true
}

// AppendMessage renders the record's format with its args onto dst.
func (r *LogRecord) AppendMessage(dst []byte) []byte {
	next := 0
	f := r.Format
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			dst = append(dst, f[i])
			continue
		}
		i++
		verb := f[i]
		if verb == '%' {
			dst = append(dst, '%')
			continue
		}
		if next >= r.NArgs() {
			dst = append(append(append(dst, "%!"...), verb), "(MISSING)"...)
			continue
		}
		a := r.Arg(next)
		next++
		switch verb {
		case 'd':
			dst = strconv.AppendInt(dst, int64(a), 10)
		case 'u':
			dst = strconv.AppendUint(dst, a, 10)
		case 'x':
			dst = strconv.AppendUint(dst, a, 16)
		case 'c':
			dst = append(dst, byte(a))
		case 't':
			dst = strconv.AppendBool(dst, a != 0)
		case 'f':
			dst = strconv.AppendFloat(dst, math.Float64frombits(a), 'g', -1, 64)
		default:
			dst = append(append(append(dst, "%!"...), verb), "(BAD)"...)
		}
	}
	return dst
}
