package daemon

import (
	"reflect"
	"testing"

	"github.com/gmkernel/gmk/bridge/link"
)

// [O1] The GPU daemon's bridge counters reach the host whole: every field
// of link.Stats survives the control path's message (LinkStats) there and
// back. Each field gets its own non-zero value, so a field the conversion
// leaves out, or two it swaps, shows.
func TestLinkStatsRoundTrip(t *testing.T) {
	var s link.Stats
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Uint64, reflect.Uint32, reflect.Uint8, reflect.Uint:
			f.SetUint(uint64(i + 1))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		default:
			t.Fatalf("link.Stats.%s: a %s; teach this test (and the conversion) about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	s.Dir = link.Out // a valid direction
	got := linksFromPB(linksToPB([]link.Stats{s}))
	if len(got) != 1 {
		t.Fatalf("round trip gave %d stats, want 1", len(got))
	}
	g := reflect.ValueOf(got[0])
	for i := range v.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), v.Field(i).Interface()) {
			t.Errorf("link.Stats.%s: %v after the round trip, want %v", v.Type().Field(i).Name, g.Field(i), v.Field(i))
		}
	}
}
