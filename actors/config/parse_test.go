package config

import (
	"errors"
	"strings"
	"testing"
)

// valid is a small correct config; the malformed cases below are variations of
// it, each with one defect.
const valid = `kernel:
  workers: 2
types:
  - {id: 1, name: raw}
  - {id: 2, name: clean}
channels:
  - {name: ingest.raw, type: raw, mode: p2p, guarantee: lossless}
modules:
  - name: transform
    channels:
      - {channel: ingest.raw, dir: consume}
  - name: store
supervisor:
  name: root
  strategy: one_for_one
  children:
    - module: transform
    - supervisor:
        name: sinks
        strategy: rest_for_one
        children:
          - module: store
            restart: transient
`

func TestX4_ValidParses(t *testing.T) {
	if _, err := Parse("ok.yaml", []byte(valid)); err != nil {
		t.Fatal(err)
	}
}

// [X4] errors name file, line and field: each malformed config gives an
// *Error whose text starts with the exact "file:line: field:" and which
// wraps the sentinel of its kind.
func TestX4_MalformedConfigs(t *testing.T) {
	cases := []struct {
		name, old, new string // replace old by new in valid ("" = whole doc in new)
		want           string // the error's exact prefix
		sentinel       error
		msg            string // a fragment of the message
	}{
		{"unknown strategy", "strategy: rest_for_one", "strategy: one-for-some",
			"p.yaml:20: supervisor.children[1].supervisor.strategy: ", ErrInvalid,
			`unknown strategy "one-for-some" (want one_for_one, one_for_all, rest_for_one)`},
		{"unknown top-level field", "kernel:\n", "kernal:\n",
			"p.yaml:1: kernal: ", ErrUnknownField, "unknown field (want one of kernel, kernels"},
		{"unknown nested field", "        strategy: rest_for_one\n", "        strategy: rest_for_one\n        max_retries: 3\n",
			"p.yaml:21: supervisor.children[1].supervisor.max_retries: ", ErrUnknownField, "unknown field"},
		{"duplicate type name", "{id: 2, name: clean}", "{id: 2, name: raw}",
			"p.yaml:5: types[1].name: ", ErrDuplicate, `duplicate type name "raw"`},
		{"duplicate module name", "  - name: store\n", "  - name: transform\n",
			"p.yaml:12: modules[1].name: ", ErrDuplicate, `duplicate module name "transform"`},
		{"duplicate supervisor name", "name: sinks", "name: root",
			"p.yaml:19: supervisor.children[1].supervisor.name: ", ErrDuplicate, `"root" is already in the tree`},
		{"child references an undefined module", "- module: store", "- module: stor",
			"p.yaml:22: supervisor.children[1].supervisor.children[0].module: ", ErrUndefined, `undefined module "stor"`},
		{"module used twice", "- module: store", "- module: transform",
			"p.yaml:22: supervisor.children[1].supervisor.children[0].module: ", ErrDuplicate, `"transform" is already in the tree (at supervisor.children[0].module)`},
		{"channel type undefined", "type: raw, mode", "type: cooked, mode",
			"p.yaml:7: channels[0].type: ", ErrUndefined, `undefined type "cooked"`},
		{"bad duration", "strategy: one_for_one\n", "strategy: one_for_one\n  within: 5 seconds\n",
			"p.yaml:16: supervisor.within: ", ErrInvalid, `bad duration "5 seconds"`},
		{"negative max_restarts", "strategy: one_for_one\n", "strategy: one_for_one\n  max_restarts: -1\n",
			"p.yaml:16: supervisor.max_restarts: ", ErrInvalid, "max_restarts -1 is negative"},
		{"backoff min above max", "strategy: one_for_one\n", "strategy: one_for_one\n  backoff: {min: 2s, max: 1s}\n",
			"p.yaml:16: supervisor.backoff.max: ", ErrInvalid, "backoff max 1s is below min 2s"},
		{"random_factor outside [0,1]", "strategy: one_for_one\n", "strategy: one_for_one\n  backoff:\n    min: 1ms\n    max: 1s\n    random_factor: 1.5\n",
			"p.yaml:19: supervisor.backoff.random_factor: ", ErrInvalid, "1.5 outside [0, 1]"},
		{"unknown restart type", "restart: transient", "restart: sometimes",
			"p.yaml:23: supervisor.children[1].supervisor.children[0].restart: ", ErrInvalid, `unknown restart type "sometimes" (want permanent, transient, temporary)`},
		{"unknown channel mode", "mode: p2p", "mode: broadcast",
			"p.yaml:7: channels[0].mode: ", ErrInvalid, `unknown mode "broadcast" (want p2p, fanout)`},
		{"unknown policy", "  workers: 2\n", "  workers: 2\n  policy: fifo\n",
			"p.yaml:3: kernel.policy: ", ErrInvalid, `unknown policy "fifo" (want rq, grq)`},
		{"unregistered module", "  - name: store\n", "  - name: store\n    module: mongo\n",
			"p.yaml:13: modules[1].module: ", ErrUnknownModule, `unknown module "mongo" (registered: errors, example.counter, failing, store, transform)`},
		{"undefined channel", "{channel: ingest.raw, dir: consume}", "{channel: ingest.cooked, dir: consume}",
			"p.yaml:11: modules[0].channels[0].channel: ", ErrUndefined, `undefined channel "ingest.cooked"`},
		{"module outside the tree", "    - module: transform\n", "",
			"p.yaml:9: modules[0]: ", ErrInvalid, `module "transform" is not a child of any supervisor`},
		{"missing strategy", "  strategy: one_for_one\n", "",
			"p.yaml:14: supervisor.strategy: ", ErrMissing, "required field missing"},
		{"workers not an integer", "workers: 2", "workers: two",
			"p.yaml:2: kernel.workers: ", ErrInvalid, `want an integer, got "two"`},
		{"field given twice", "  workers: 2\n", "  workers: 2\n  workers: 3\n",
			"p.yaml:3: kernel.workers: ", ErrDuplicate, "field given twice"},
		{"replay on a lossy channel", "guarantee: lossless}", "guarantee: lossy, replay: 8}",
			"p.yaml:7: channels[0].replay: ", ErrInvalid, "a replay buffer needs a lossless channel"},
		{"bad channel name", "{name: ingest.raw,", "{name: ingest,",
			"p.yaml:7: channels[0].name: ", ErrInvalid, `channel name "ingest" is not`},
		{"syntax error", "  workers: 2\n", "  workers: 2\n   tenants: 1\n",
			"p.yaml:3: ", ErrSyntax, "mapping values are not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.old) {
				t.Fatalf("case does not apply: %q not in the valid config", tc.old)
			}
			doc := strings.Replace(valid, tc.old, tc.new, 1)
			_, err := Parse("p.yaml", []byte(doc))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q\nwant prefix %q and %q", err, tc.want, tc.msg)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.sentinel)
			}
		})
	}
}
