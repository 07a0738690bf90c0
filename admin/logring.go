package admin

import (
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogRing keeps the node's most recent log entries for the logs stream
// (gmk log). It is a zapcore.Core: tee it into the node's logger with
// Tee (or zapcore.NewTee), and every entry at or above its level is kept,
// with its fields. Safe for concurrent use.
type LogRing struct {
	level zapcore.LevelEnabler
	feed  *feed[LogEntry]
}

// NewLogRing returns a ring of size entries that keeps entries enabled by
// level (zapcore.DebugLevel keeps all).
func NewLogRing(size int, level zapcore.LevelEnabler) *LogRing {
	return &LogRing{level: level, feed: newFeed[LogEntry](size)}
}

// Tee returns l logging to the ring too.
func (r *LogRing) Tee(l *zap.Logger) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, r.core(nil))
	}))
}

// Entries returns the kept entries after sequence number after, numbered.
func (r *LogRing) Entries(after uint64) []LogEntry {
	es, last, _, _ := r.feed.since(after, 0)
	stampLogs(es, last)
	return es
}

// stampLogs numbers entries that end with sequence number last.
func stampLogs(es []LogEntry, last uint64) {
	for i := range es {
		es[i].Seq = last - uint64(len(es)-1-i)
	}
}

// core returns the ring's Core carrying fields.
func (r *LogRing) core(fields []zapcore.Field) *ringCore {
	return &ringCore{r: r, fields: fields}
}

// ringCore is the zapcore.Core of a LogRing, with the fields of With.
type ringCore struct {
	r      *LogRing
	fields []zapcore.Field
}

var _ zapcore.Core = (*ringCore)(nil)

func (c *ringCore) Enabled(l zapcore.Level) bool { return c.r.level.Enabled(l) }

func (c *ringCore) With(fs []zapcore.Field) zapcore.Core {
	return c.r.core(append(append([]zapcore.Field(nil), c.fields...), fs...))
}

func (c *ringCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *ringCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fs {
		f.AddTo(enc)
	}
	le := LogEntry{Time: e.Time.UTC().Truncate(time.Microsecond), Level: e.Level.String(), Logger: e.LoggerName, Message: e.Message}
	if len(enc.Fields) > 0 {
		le.Fields = enc.Fields
	}
	c.r.feed.publish(le)
	return nil
}

func (c *ringCore) Sync() error { return nil }
