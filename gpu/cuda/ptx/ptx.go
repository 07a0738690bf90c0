package ptx

import (
	_ "embed"
	"errors"
	"fmt"
)

//go:embed gmk_sm90.ptx
var sm90 string

//go:embed gmk_sm80.ptx
var sm80 string

// ErrNoImage is returned by For for a device older than the oldest image
// (compute capability 8.0).
var ErrNoImage = errors.New("no GMK kernel image for this device")

// SM90 returns the kernel image built for sm_90 (H100, H200).
func SM90() string { return sm90 }

// SM80 returns the kernel image built for sm_80 (A100).
func SM80() string { return sm80 }

// Image is one embedded kernel image.
type Image struct {
	Arch  string // "sm_90"
	Major int    // lowest compute capability it runs on
	Minor int
	PTX   string
}

// Images lists the embedded images, newest architecture first.
func Images() []Image {
	return []Image{{Arch: "sm_90", Major: 9, Minor: 0, PTX: sm90}, {Arch: "sm_80", Major: 8, Minor: 0, PTX: sm80}}
}

// For picks the image for a device of compute capability major.minor: the
// newest architecture the device implements. PTX is forward-compatible, so
// a device newer than sm_90 gets the sm_90 image and the driver compiles it
// for the device. A device below 8.0 gets ErrNoImage.
func For(major, minor int) (Image, error) {
	for _, im := range Images() {
		if major > im.Major || (major == im.Major && minor >= im.Minor) {
			return im, nil
		}
	}
	return Image{}, fmt.Errorf("ptx: compute capability %d.%d: %w (oldest is sm_80)", major, minor, ErrNoImage)
}
