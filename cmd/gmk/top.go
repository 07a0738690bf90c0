package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newTopCmd) }

// gmk top: a live dashboard of the node. It polls GET /api/v1/snapshot —
// which reads published counters only, so no kernel ever waits for it —
// every --interval, one poll in flight at a time, and redraws.
func newTopCmd() *cobra.Command {
	f := &nodeFlags{}
	var once bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Live dashboard: kernels, workers, queues, memory, channels, modules",
		Long: `Top shows the node live, refreshed every --interval: its kernels (workers
active, idle and stalled, queues, memory), its channels (depth and rates) and its
modules (rates and failures). Keys: tab / shift+tab or 1-3 switch panes, q quits.
With --once it prints one frame of every pane and exits (no terminal needed).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if every <= 0 {
				return fmt.Errorf("%w: --interval must be positive", errUsage)
			}
			m := newTopModel(cmd.Context(), f.nodeAddr(), f.client().Snapshot, every)
			if once {
				return m.once(cmd.OutOrStdout())
			}
			return runTop(cmd.Context(), m, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&f.kernel, "kernel", "", "only this kernel's rows (an id such as cpu.0)")
	cmd.Flags().BoolVar(&once, "once", false, "print one frame of every pane and exit")
	cmd.Flags().DurationVar(&every, "interval", 500*time.Millisecond, "refresh interval")
	return cmd
}

// runTop runs the dashboard until q, ctrl+c or the end of ctx.
func runTop(ctx context.Context, m *topModel, in io.Reader, out io.Writer) error {
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted: not an error of top's
	}
	return err
}

// Panes of the dashboard, switched with tab.
const (
	paneKernels = iota
	paneChannels
	paneModules
	numPanes
)

var paneNames = [numPanes]string{"kernels", "channels", "modules"}

// topModel is the dashboard's state (a bubbletea Model). Update is called
// on bubbletea's goroutine only; the poll runs as a tea.Cmd on another and
// hands its result back as a snapMsg, so the model itself is never shared.
type topModel struct {
	ctx    context.Context
	addr   string
	fetch  func(context.Context) (admin.Snapshot, error) // one poll of the node
	every  time.Duration
	kernel string // --kernel: only its rows ("" = all)

	snap   admin.Snapshot
	have   bool  // snap holds a snapshot
	err    error // the last poll's error (the last good snapshot stays shown)
	polls  int   // snapshots received
	pane   int
	width  int // terminal size (0: unknown, nothing is cut)
	height int
}

func newTopModel(ctx context.Context, addr string, fetch func(context.Context) (admin.Snapshot, error), every time.Duration) *topModel {
	return &topModel{ctx: ctx, addr: addr, fetch: fetch, every: every}
}

// tickMsg says it is time to poll again.
type tickMsg time.Time

// snapMsg is the result of one poll.
type snapMsg struct {
	snap admin.Snapshot
	err  error
}

// poll fetches one snapshot, giving up after a few intervals so a node that
// hangs shows as an error instead of freezing the view.
func (m *topModel) poll() tea.Msg {
	ctx, cancel := context.WithTimeout(m.ctx, max(4*m.every, 2*time.Second))
	defer cancel()
	s, err := m.fetch(ctx)
	return snapMsg{snap: s, err: err}
}

// Init starts the first poll.
func (m *topModel) Init() tea.Cmd { return m.poll }

// Update handles keys, resizes, ticks and poll results. The next tick is
// scheduled only when a poll's result arrives: one poll at a time.
func (m *topModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m, m.key(msg.String())
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tickMsg:
		return m, m.poll
	case snapMsg:
		m.err = msg.err
		if msg.err == nil {
			m.snap, m.have = msg.snap, true
			m.polls++
		}
		return m, tea.Tick(m.every, func(t time.Time) tea.Msg { return tickMsg(t) })
	}
	return m, nil
}

// key handles a key press.
func (m *topModel) key(k string) tea.Cmd {
	switch k {
	case "q", "ctrl+c", "esc":
		return tea.Quit
	case "tab", "right", "l":
		m.pane = (m.pane + 1) % numPanes
	case "shift+tab", "left", "h":
		m.pane = (m.pane + numPanes - 1) % numPanes
	case "1", "2", "3":
		m.pane = int(k[0] - '1')
	}
	return nil
}

// View renders the header and the current pane, cut to the terminal.
func (m *topModel) View() string {
	var b strings.Builder
	m.header(&b, true)
	if m.have {
		m.renderPane(&b, m.pane)
	}
	return clip(b.String(), m.width, m.height)
}

// once prints one frame with every pane (gmk top --once).
func (m *topModel) once(w io.Writer) error {
	msg := m.poll().(snapMsg)
	if msg.err != nil {
		return msg.err
	}
	m.snap, m.have = msg.snap, true
	var b strings.Builder
	m.header(&b, false)
	for p := range numPanes {
		m.renderPane(&b, p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clip cuts s to width columns and height lines (0: no limit), marking
// what was cut.
func clip(s string, width, height int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if height > 0 && len(lines) > height {
		more := len(lines) - height + 1
		lines = append(lines[:height-1], fmt.Sprintf("… %d more lines", more))
	}
	for i, l := range lines {
		if r := []rune(l); width > 0 && len(r) > width {
			lines[i] = string(r[:width-1]) + "…"
		}
	}
	return strings.Join(lines, "\n")
}
