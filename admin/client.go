package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to a node's admin endpoint (the gmk command line uses it).
// It is safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the endpoint at addr ("127.0.0.1:7878" or
// an http:// URL).
func NewClient(addr string) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return &Client{base: strings.TrimRight(addr, "/"), hc: &http.Client{}}
}

// RemoteError is an error the endpoint answered with.
type RemoteError struct {
	Status  int
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// Raw performs a GET of path (below /api/v1/, query included) and returns
// the body as it came.
func (c *Client) Raw(ctx context.Context, path string) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// do sends a request and turns an error status into a *RemoteError.
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+prefix+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no node at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%s %s: %s", method, path, resp.Status)
		}
		return nil, &RemoteError{Status: resp.StatusCode, Message: e.Error}
	}
	return resp, nil
}

// call sends a request and decodes the JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: bad answer: %w", method, path, err)
	}
	return nil
}

func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	err := c.call(ctx, http.MethodGet, path, nil, &v)
	return v, err
}

// Node returns the node's description.
func (c *Client) Node(ctx context.Context) (NodeInfo, error) { return get[NodeInfo](ctx, c, "node") }

// Snapshot returns the whole node in one call.
func (c *Client) Snapshot(ctx context.Context) (Snapshot, error) {
	return get[Snapshot](ctx, c, "snapshot")
}

// Stats returns every kernel's statistics.
func (c *Client) Stats(ctx context.Context) ([]KernelStats, error) {
	return get[[]KernelStats](ctx, c, "stats")
}

// Workers returns every kernel's workers.
func (c *Client) Workers(ctx context.Context) ([]WorkerStats, error) {
	return get[[]WorkerStats](ctx, c, "workers")
}

// Types returns the handled task types of every kernel.
func (c *Client) Types(ctx context.Context) ([]TypeStats, error) {
	return get[[]TypeStats](ctx, c, "types")
}

// Channels returns every kernel's channels.
func (c *Client) Channels(ctx context.Context) ([]Channel, error) {
	return get[[]Channel](ctx, c, "channels")
}

// Modules returns every kernel's modules.
func (c *Client) Modules(ctx context.Context) ([]Module, error) {
	return get[[]Module](ctx, c, "modules")
}

// Failures returns the recorded tasks after sequence number after, of the
// kinds given ("error", "dropped", "tap"; none: all).
func (c *Client) Failures(ctx context.Context, after uint64, kinds ...string) ([]Failure, error) {
	q := url.Values{"after": {fmt.Sprint(after)}, "kind": kinds}
	return get[[]Failure](ctx, c, "failures?"+q.Encode())
}

// Emit makes one task.
func (c *Client) Emit(ctx context.Context, req EmitRequest) (EmitResult, error) {
	var res EmitResult
	err := c.call(ctx, http.MethodPost, "emit", req, &res)
	return res, err
}

// Reset clears the poison of a module or a type.
func (c *Client) Reset(ctx context.Context, req ResetRequest) (ResetResult, error) {
	var res ResetResult
	err := c.call(ctx, http.MethodPost, "reset", req, &res)
	return res, err
}

// KVStores lists the running kv stores.
func (c *Client) KVStores(ctx context.Context) ([]KVStore, error) {
	return get[[]KVStore](ctx, c, "kv")
}

// KVKeys lists a store's keys ("" = the only store).
func (c *Client) KVKeys(ctx context.Context, store string) ([]KVEntry, error) {
	return get[[]KVEntry](ctx, c, "kv?"+url.Values{"store": {store}}.Encode())
}

// KVGet reads a key.
func (c *Client) KVGet(ctx context.Context, store, key string) (KVEntry, error) {
	return get[KVEntry](ctx, c, "kv?"+url.Values{"store": {store}, "key": {key}}.Encode())
}

// KVPut writes a key.
func (c *Client) KVPut(ctx context.Context, store, key, value string) (KVEntry, error) {
	var res KVEntry
	err := c.call(ctx, http.MethodPut, "kv", KVEntry{Store: store, Key: key, Value: &value}, &res)
	return res, err
}

// SetTraceLevel changes a module's trace level.
func (c *Client) SetTraceLevel(ctx context.Context, tl TraceLevel) (TraceLevel, error) {
	var res TraceLevel
	err := c.call(ctx, http.MethodPut, "trace/level", tl, &res)
	return res, err
}

// Halt asks the node to halt.
func (c *Client) Halt(ctx context.Context) error {
	var h Halt
	return c.call(ctx, http.MethodPost, "halt", nil, &h)
}

// Export writes the node's Chrome/Perfetto trace to w.
func (c *Client) Export(ctx context.Context, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, "trace/export", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// Trace streams trace events (query: the stream's parameters) to fn until
// the stream ends, ctx ends, or fn returns an error.
func (c *Client) Trace(ctx context.Context, q url.Values, fn func(TraceEvent) error) error {
	return follow(ctx, c, "trace?"+q.Encode(), fn)
}

// Logs streams log entries (query: the stream's parameters) to fn.
func (c *Client) Logs(ctx context.Context, q url.Values, fn func(LogEntry) error) error {
	return follow(ctx, c, "logs?"+q.Encode(), fn)
}

func follow[T any](ctx context.Context, c *Client, path string, fn func(T) error) error {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return fmt.Errorf("bad stream line: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
