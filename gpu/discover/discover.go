// Package discover finds NVIDIA GPUs through NVML (github.com/NVIDIA/go-nvml)
// for the dual-kernel boot ([K1]) and reads their telemetry for the boot
// summary and metrics. It never links the CUDA driver: NVML is loaded at run
// time (libnvidia-ml.so.1), so a machine without a driver gets a clean
// "no GPU" answer with the reason, and the system boots the simulated GPU
// kernel instead.
//
// Functions are safe for concurrent use: each call initialises and shuts
// down NVML (reference-counted by the library).
package discover

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Device is one GPU as NVML reports it.
type Device struct {
	Index        int
	Name         string
	UUID         string
	Major, Minor int    // CUDA compute capability
	MemTotal     uint64 // bytes
	MemUsed      uint64 // bytes
	PCIeGen      int    // current link generation
	PCIeWidth    int    // current link width (lanes)
	TempC        uint32 // GPU core temperature, °C
	PowerMilliW  uint32 // power draw, mW
	PCIeTxKBs    uint32 // PCIe throughput device → host over 20 ms, KB/s
	PCIeRxKBs    uint32 // host → device
	Partial      []string
}

func (d Device) String() string {
	return fmt.Sprintf("gpu %d: %s (sm_%d%d) | %d MiB | PCIe Gen%d x%d | %d °C | %.0f W",
		d.Index, d.Name, d.Major, d.Minor, d.MemTotal>>20, d.PCIeGen, d.PCIeWidth, d.TempC, float64(d.PowerMilliW)/1000)
}

// ErrNoGPU wraps every reason there is no usable GPU.
var ErrNoGPU = errors.New("no GPU")

// Devices lists the GPUs. With none it returns an error wrapping ErrNoGPU
// that says why: NVML missing (no driver installed), the driver not loaded,
// or zero devices.
func Devices() ([]Device, error) {
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: NVML: %s", ErrNoGPU, nvml.ErrorString(ret))
	}
	defer nvml.Shutdown()
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: NVML device count: %s", ErrNoGPU, nvml.ErrorString(ret))
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: NVML sees 0 devices", ErrNoGPU)
	}
	out := make([]Device, 0, n)
	for i := range n {
		h, ret := nvml.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("discover: device %d: %s", i, nvml.ErrorString(ret))
		}
		out = append(out, read(i, h))
	}
	return out, nil
}

// read fills a Device; a reading the device does not support is left zero
// and named in Partial.
func read(i int, h nvml.Device) Device {
	d := Device{Index: i}
	note := func(what string, ret nvml.Return) bool {
		if ret != nvml.SUCCESS {
			d.Partial = append(d.Partial, what+": "+nvml.ErrorString(ret))
			return false
		}
		return true
	}
	var ret nvml.Return
	d.Name, ret = h.GetName()
	note("name", ret)
	d.UUID, ret = h.GetUUID()
	note("uuid", ret)
	d.Major, d.Minor, ret = h.GetCudaComputeCapability()
	note("compute capability", ret)
	if m, ret := h.GetMemoryInfo(); note("memory", ret) {
		d.MemTotal, d.MemUsed = m.Total, m.Used
	}
	d.PCIeGen, ret = h.GetCurrPcieLinkGeneration()
	note("pcie generation", ret)
	d.PCIeWidth, ret = h.GetCurrPcieLinkWidth()
	note("pcie width", ret)
	d.TempC, ret = h.GetTemperature(nvml.TEMPERATURE_GPU)
	note("temperature", ret)
	d.PowerMilliW, ret = h.GetPowerUsage()
	note("power", ret)
	d.PCIeTxKBs, ret = h.GetPcieThroughput(nvml.PCIE_UTIL_TX_BYTES)
	note("pcie tx", ret)
	d.PCIeRxKBs, ret = h.GetPcieThroughput(nvml.PCIE_UTIL_RX_BYTES)
	note("pcie rx", ret)
	return d
}
