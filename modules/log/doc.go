// Package log is the log module ([U2], [G5]): it renders the levelled log
// records that handlers send with sdk.Logger and writes them to a zap logger
// and/or an io.Writer, off the handlers' path.
//
// # Channel contract
//
//	log.write  consumed; P2P, lossy; type RecType (default 964)
//	           meta0 = level (bits 0..7) | args n (bits 8..15) | format length (bits 16..47)
//	           meta1 = the emitter's logical tick
//	           payload = n little-endian uint64 args, then the format bytes
//
// (see sdk.Logger and sdk.LogRecord for the formatting verbs). The channel
// is lossy on purpose: logging never holds back or fails the handler that
// logs; records that find it full are dropped, counted as the channel's
// drops and routed to sys.dropped.
//
// Output, in log.write order, one line per record at or above the module's
// level (Config.Level, changeable with SetLevel):
//
//	Writer:  "<LEVEL> <message>\n", or "<LEVEL> t=<tick> <message>\n" with Config.Ticks
//	Logger:  an entry at the zap level (DEBUG, INFO, WARN, ERROR), message
//	         the rendered text, with fields tick and tenant
//
// The rendered text depends only on the record, so the CPU and GPU modules
// print the same lines for the same records. Failure codes: CodeBadRequest
// for a record whose lengths disagree with its payload.
//
// # Concurrency
//
// Records are rendered one at a time under the module's mutex into a reused
// buffer: the Writer path allocates nothing; the zap path allocates the
// message string. Writes are synchronous on the worker, so the Writer and
// the zap core should not block for long (buffer them when they may).
package log
