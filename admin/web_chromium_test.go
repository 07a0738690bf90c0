package admin_test

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// screenshotOut keeps the test's screenshot: go test ./admin -run Chromium -args -screenshot /tmp/gmk-web.png
var screenshotOut = flag.String("screenshot", "", "copy the web view's screenshot to this file")

// chromium runs headless Chromium on url with args (a fresh profile each
// time) and returns its standard output. It skips the test when chromium is
// not installed: scripts/install-chromium.sh installs it (CI runs it).
func chromium(t *testing.T, url string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/install-chromium.sh installs it): the web view's browser test does not run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	argv := append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,900", "--virtual-time-budget=4000"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(argv, url)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errOut.String())
	}
	return out.Bytes()
}

// [U5] The web view in a real browser: headless Chromium loads the page from
// a node of two bridged kernels; the DOM it renders has the graph — a node
// per module, an edge per channel labelled with its name, the bridge
// channel's edge across kernels marked — and the trace timeline with
// events; its screenshot is a 1280×900 PNG whose graph area is drawn (many
// colours, the module and cross-kernel edge colours among them).
func TestU5_WebChromium(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("chromium is not installed (scripts/install-chromium.sh installs it): the web view's browser test does not run")
	}
	f := startBridged(t)
	f.emit(t, 20)
	url := f.base + "/ui/"

	dom := string(chromium(t, url, "--dump-dom"))
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	// Both kernels run the bridge's relay module.
	mods := []string{"cpu.0/ingest", "cpu.0/bridge", "gpu.0/xform", "gpu.0/store", "gpu.0/bridge"}
	for _, m := range mods {
		name := m[strings.Index(m, "/")+1:]
		if count(`<g class="node module[^"]*" data-id="`+m+`"[^>]*data-module="`+name+`"`) != 1 || !strings.Contains(dom, ">"+name+"</text>") {
			t.Errorf("no node for module %s", m)
		}
	}
	if n := count(`<g class="node module`); n != len(mods) {
		t.Errorf("%d module nodes, want %d", n, len(mods))
	}
	for _, ch := range []string{"host.rx", "img.out", "sys.error"} {
		if count(`<g class="edge[^"]*" data-channel="`+regexp.QuoteMeta(ch)+`"`) == 0 || count(`class="elabel" data-channel="`+regexp.QuoteMeta(ch)+`"`) == 0 {
			t.Errorf("no edge or label for channel %s", ch)
		}
	}
	if count(`<g class="edge bridge cross[^"]*" data-channel="host.rx" data-kernel="gpu.0" data-from="cpu.0/ingest" data-to="gpu.0/xform"`) != 1 {
		t.Errorf("no cross-kernel edge ingest → xform")
	}
	if count(`<rect class="ev"`) == 0 || count(`<tr class="event">`) == 0 || count(`<rect class="band" data-kernel="(cpu|gpu)\.0"`) != 2 {
		t.Errorf("no trace timeline events, event rows or kernel bands")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	shot := filepath.Join(t.TempDir(), "web.png")
	chromium(t, url, "--screenshot="+shot)
	checkScreenshot(t, shot)
}

// checkScreenshot decodes the PNG and checks its size and that the graph
// area is drawn: many distinct colours, and the module boxes' fill and the
// cross-kernel edges' red (style.css) among them.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *screenshotOut != "" {
		_ = os.WriteFile(*screenshotOut, b, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if sz := img.Bounds().Size(); sz != (image.Point{1280, 900}) {
		t.Errorf("screenshot is %v, want 1280x900", sz)
	}
	colors := map[[3]uint32]int{}
	graphArea := image.Rect(0, 200, 1280, 900) // below the header, kernel cards and legend
	for y := graphArea.Min.Y; y < graphArea.Max.Y; y++ {
		for x := graphArea.Min.X; x < graphArea.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	moduleFill, crossRed := colors[[3]uint32{0xe3, 0xf2, 0xe8}], colors[[3]uint32{0xd9, 0x30, 0x25}]
	if len(colors) < 16 || moduleFill < 500 || crossRed < 20 {
		t.Errorf("graph area: %d colours, %d module-fill pixels, %d cross-edge pixels: not drawn", len(colors), moduleFill, crossRed)
	}
}
