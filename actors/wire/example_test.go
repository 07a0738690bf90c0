package wire_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// A TaskBatch carries 48-byte task records and their payloads; it survives
// protobuf encoding — what protoactor remote does to it — and reads back in
// order. A subscriber acknowledges a Delivery with Delivery.Ack.
func ExampleTaskBatch() {
	var b wire.TaskBatch
	b.Append(kernel.Task{Type: 7, Meta0: 1}, []byte("ada"))
	b.Append(kernel.Task{Type: 7, Meta0: 2}, nil) // an inline task
	b.Append(kernel.Task{Type: 7, Meta0: 3}, []byte("edsger"))
	b.FirstSeq = 10

	raw, _ := proto.Marshal(&wire.Delivery{Channel: "demo.greet", Sub: 1, Batch: &b})
	var d wire.Delivery
	_ = proto.Unmarshal(raw, &d)

	fmt.Println(len(d.Batch.Tasks), "record bytes,", len(d.Batch.Payloads), "payload bytes")
	_ = d.Batch.Each(func(i int, t kernel.Task, p []byte) error {
		fmt.Printf("seq %d: type %d meta0 %d payload %q\n", d.Batch.FirstSeq+uint64(i), t.Type, t.Meta0, p)
		return nil
	})
	fmt.Println("ack through", d.Ack().Seq)
	// Output:
	// 144 record bytes, 9 payload bytes
	// seq 10: type 7 meta0 1 payload "ada"
	// seq 11: type 7 meta0 2 payload ""
	// seq 12: type 7 meta0 3 payload "edsger"
	// ack through 12
}
