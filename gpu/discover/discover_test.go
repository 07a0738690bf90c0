package discover

import (
	"errors"
	"os"
	"testing"
)

// TestK1_DiscoveryAnswersCleanly: Devices either lists GPUs with a name and
// memory, or says why there is none with an error wrapping ErrNoGPU — on a
// machine without a driver, without a device, or with NVML but no kernel
// module (this development machine), never a panic or a hang.
func TestK1_DiscoveryAnswersCleanly(t *testing.T) {
	ds, err := Devices()
	if err != nil {
		if !errors.Is(err, ErrNoGPU) {
			t.Fatalf("Devices: %v, want an error wrapping ErrNoGPU", err)
		}
		if len(ds) != 0 {
			t.Fatalf("Devices returned %d devices with error %v", len(ds), err)
		}
		if _, statErr := os.Stat("/dev/nvidia0"); statErr == nil {
			t.Logf("note: /dev/nvidia0 exists but NVML says: %v", err)
		}
		t.Logf("no GPU here: %v", err)
		return
	}
	for _, d := range ds {
		if d.Name == "" || d.MemTotal == 0 {
			t.Fatalf("device %d without name or memory: %+v", d.Index, d)
		}
		t.Log(d)
	}
}
