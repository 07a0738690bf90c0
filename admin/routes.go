package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const prefix = "/api/v1/"

// routes maps the API (api.go lists it).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	get := func(path string, fn func(*http.Request) (any, error)) { mux.HandleFunc("GET "+prefix+path, s.api(fn)) }
	get("node", func(*http.Request) (any, error) { return s.nodeInfo(), nil })
	get("snapshot", func(*http.Request) (any, error) { return s.snapshot(), nil })
	get("stats", perKernel(s, s.kernelStats1))
	get("workers", perKernel(s, s.workers))
	get("types", perKernel(s, s.types))
	get("channels", perKernel(s, s.channels))
	get("modules", perKernel(s, s.modules))
	get("failures", s.getFailures)
	get("cluster", s.getCluster)
	get("kv", s.getKV)
	mux.HandleFunc("PUT "+prefix+"kv", s.api(s.putKV))
	mux.HandleFunc("POST "+prefix+"emit", s.api(s.emit))
	mux.HandleFunc("POST "+prefix+"reset", s.api(s.reset))
	mux.HandleFunc("POST "+prefix+"halt", s.api(func(*http.Request) (any, error) {
		s.RequestHalt()
		return Halt{Halting: true}, nil
	}))
	mux.HandleFunc("PUT "+prefix+"trace/level", s.api(s.setTraceLevel))
	mux.HandleFunc("GET "+prefix+"trace", s.streamTrace)
	mux.HandleFunc("GET "+prefix+"trace/export", s.exportTrace)
	mux.HandleFunc("GET "+prefix+"logs", s.streamLogs)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.prom, promhttp.HandlerOpts{}))
	s.webRoutes(mux) // the web view: /, /ui/ (web.go)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)})
	})
	return mux
}

func (s *Server) kernelStats1(k Kernel) []KernelStats { return []KernelStats{s.kernelStats(k)} }

// perKernel serves the rows of every selected kernel, concatenated.
func perKernel[T any](s *Server, rows func(Kernel) []T) func(*http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		ks, err := s.kernelsFor(r)
		if err != nil {
			return nil, err
		}
		out := []T{}
		for _, k := range ks {
			out = append(out, rows(k)...)
		}
		return out, nil
	}
}

func (s *Server) getFailures(r *http.Request) (any, error) {
	ks, err := s.kernelsFor(r)
	if err != nil {
		return nil, err
	}
	after, err := parseUint(r.URL.Query().Get("after"))
	if err != nil {
		return nil, err
	}
	kinds, err := parseKinds(r.URL.Query()["kind"])
	if err != nil {
		return nil, err
	}
	out := []Failure{}
	for _, k := range ks {
		out = append(out, s.failures(k, after, kinds)...)
	}
	return out, nil
}

// apiError is an error with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// api adapts a handler that returns a value or an error.
func (s *Server) api(fn func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a client gone away is not the server's error
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.status
	}
	writeJSON(w, status, Error{Error: err.Error()})
}

// decode reads a JSON request body into v, strictly.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad request body: %v", err)
	}
	return nil
}
