package admin

import (
	"embed"
	"io/fs"
	"net/http"
)

// The web view ([U5]): a page at /ui/ that draws the module/channel graph
// with live rates (from GET /ui/graph.json, buildGraph; the cluster's
// members and the channels that cross them: webcluster.go) and a timeline of
// recent trace events (from GET /api/v1/trace), refreshed every second by
// the page itself. Its assets are embedded: nothing is fetched from
// elsewhere, nothing is built at run time.
//
//	GET /            redirect to /ui/
//	GET /ui/         the page (web/index.html), its script and style sheet
//	GET /ui/graph.json  the laid-out graph of the node now

//go:embed web
var webFS embed.FS

// webRoutes registers the web view on mux.
func (s *Server) webRoutes(mux *http.ServeMux) {
	assets, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/: a broken build
	}
	mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", noCache(http.FileServerFS(assets))))
	mux.HandleFunc("GET /ui/graph.json", s.api(func(*http.Request) (any, error) { return buildGraph(s.snapshot()), nil }))
}

// noCache makes browsers revalidate the assets: a node upgraded in place
// serves its own page, not a cached one.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
