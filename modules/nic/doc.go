// Package nic is the network module ([U2]): real TCP and UDP sockets whose
// traffic enters the kernel as tasks on net.rx and leaves it from tasks on
// net.tx. It is a CPU module (a peripheral, [K3]); the sockets are served
// by goroutines of its own, never by kernel workers.
//
// # Channel contract
//
//	net.rx  produced; P2P, lossless; type RxType (default 974)
//	        meta0 = endpoint id (bits 0..31) | protocol (bits 32..39: 1 TCP,
//	                2 UDP) | event (bits 40..47: 0 data, 1 open, 2 close)
//	        meta1 = the peer's IPv4 address<<16 | port (PeerMeta)
//	        payload = the bytes received (data): one TCP read or one
//	                datagram, at most MaxFrame bytes
//	net.tx  consumed; P2P, lossless; type TxType (default 975)
//	        meta0 = endpoint id | op (bits 40..47: 0 send, 2 close)
//	        payload = the bytes to send (send)
//
// Endpoints. A TCP connection is an endpoint from its accept (an open event)
// to its end (a close event, after the peer closed, a read or write failed,
// or a close op); its data events carry the byte stream in order, in
// read-sized pieces (TCP has no message boundaries). A UDP peer — a source
// address — becomes an endpoint with its first datagram; a send to it goes
// to that address; a close op forgets it. Endpoint ids are never reused
// while the module runs.
//
// Sends are asynchronous and zero-copy: the tx handler retains the payload
// and queues it for the endpoint's writer goroutine, which releases it after
// the write; sends to one endpoint are written in net.tx order. Failure
// codes: CodeUnreachable (no such endpoint, or it closed), CodeBadRequest (an
// unknown op). A full send queue (TxQueue) makes the tx task retry with
// backoff. A write that fails closes the TCP connection (a close event
// follows); a UDP datagram that cannot be sent is lost, as UDP may lose it.
//
// Backpressure: receivers wait while net.rx is full (TCP flow control
// reaches the peer); while the arena has no block they wait too.
//
// # Lifecycle and concurrency
//
// Init opens the sockets (TCPAddr and UDPAddr tell where) and starts the
// goroutines: an acceptor, a reader and a writer per TCP connection, a UDP
// reader and a UDP writer. Once Halt begins their emits fail and they stop
// receiving; Fini closes every socket, waits for every goroutine and
// releases the sends still queued. The endpoint table is guarded by a mutex.
package nic
