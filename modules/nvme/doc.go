// Package nvme is the storage module ([U2]): asynchronous reads and writes
// of real files, requested with tasks and completed with tasks; a failed
// request becomes an error task, never a crash. It is a CPU module (a
// peripheral, [K3]); the I/O runs on goroutines of its own, never on kernel
// workers.
//
// # Channel contract
//
//	disk.read       consumed; P2P, lossless; type ReadType (default 976)
//	                meta0 = tag (bits 0..31, the caller's) | file id (bits 32..63)
//	                meta1 = offset (bits 0..39) | length (bits 40..63; 1..MaxIO)
//	disk.write      consumed; P2P, lossless; type WriteType (default 977)
//	                meta0 = tag | file id<<32, meta1 = offset (< 2^62)
//	                payload = the bytes to write
//	disk.read.resp  P2P, lossless; type ReadRespType (default 978)
//	                meta0 = the request's; meta1 = bytes read (fewer at the
//	                end of the file, 0 at or past it) or a failure code;
//	                payload = the bytes read
//	disk.write.resp (when Config.WriteResp names it) type WriteRespType
//	                (default 979): meta0 = the request's; meta1 = bytes
//	                written or a failure code
//	error task      a direct task of type ErrType (default 980) that fails
//	                with the request's code, so it ends in sys.error:
//	                meta0 = the request's, meta1 = op (bits 56..63: 1 read,
//	                2 write) | code (bits 0..31) — see SplitErr
//
// The file table (Config.Files) is opened at Init: read-write, created if
// missing, or read-only for File.ReadOnly; a file that cannot be opened
// makes every request on it fail with its open error's code.
//
// Failure codes: CodeNoSpace (ENOSPC, EDQUOT, EFBIG: a full target),
// CodeReadOnly (EROFS, EACCES, EPERM, EBADF: a read-only target), CodeNoFile
// (a missing file, an unknown file id), CodeIO (any other I/O error),
// ALLOC_FAIL (no arena block for a read), CodeBadRequest (a read length out
// of range, an offset out of range). A request rejected by its handler
// (unknown file id, bad request) fails itself, with the code, to the
// channel's error handler or sys.error; one that fails in the I/O goroutine
// completes with the code in its completion and also raises an error task.
//
// Order and asynchrony: the request handlers only validate and queue (a
// write's payload is retained, not copied); Config.Workers goroutines do
// the I/O, so requests complete in any order — match completions by tag.
// A full queue makes the request retry with backoff. The response channels
// are not declared outputs (the goroutines, not the handlers, send on them,
// waiting while they are full), so they need consumers.
//
// # Lifecycle
//
// Halt does not wait for I/O in flight: a read that completes after the
// kernel halted is dropped. Fini finishes the queued writes, waits for the
// goroutines and closes the files.
package nvme
