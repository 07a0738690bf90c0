package chans

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A Codec turns a user protobuf message into task payload bytes and back,
// so that an actor can emit its own message onto a channel and a
// subscriber can receive it decoded ([X3]).
type Codec interface {
	// Message returns an empty message of the codec's type; its full name
	// selects the codec when an actor sends such a message.
	Message() proto.Message
	Encode(proto.Message) ([]byte, error)
	Decode([]byte) (proto.Message, error)
}

// ProtoCodec is the Codec of prototype's message type: protobuf's binary
// encoding.
func ProtoCodec(prototype proto.Message) Codec { return protoCodec{prototype} }

type protoCodec struct{ m proto.Message }

func (c protoCodec) Message() proto.Message { return c.m }

func (c protoCodec) Encode(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

func (c protoCodec) Decode(b []byte) (proto.Message, error) {
	m := c.m.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, err
	}
	return m, nil
}

// codecs maps task types to codecs and message names to task types. Read by
// every channel actor, written by RegisterCodec: a read-write mutex.
type codecs struct {
	mu     sync.RWMutex
	byType map[uint32]Codec
	byName map[protoreflect.FullName]uint32
}

func (r *codecs) register(typ uint32, c Codec) error {
	name := c.Message().ProtoReflect().Descriptor().FullName()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byType[typ]; dup {
		return fmt.Errorf("gmk: task type %d has a codec already", typ)
	}
	if t, dup := r.byName[name]; dup {
		return fmt.Errorf("gmk: message %s has a codec already (task type %d)", name, t)
	}
	if r.byType == nil {
		r.byType, r.byName = map[uint32]Codec{}, map[protoreflect.FullName]uint32{}
	}
	r.byType[typ], r.byName[name] = c, typ
	return nil
}

func (r *codecs) forType(typ uint32) Codec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byType[typ]
}

func (r *codecs) forMessage(m proto.Message) (uint32, Codec, bool) {
	name := m.ProtoReflect().Descriptor().FullName()
	r.mu.RLock()
	defer r.mu.RUnlock()
	typ, ok := r.byName[name]
	return typ, r.byType[typ], ok
}
