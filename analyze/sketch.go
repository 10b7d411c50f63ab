package analyze

import (
	"math"
	"math/bits"
)

// distinctSketch estimates how many distinct strings it was given, in 4 KiB whatever their number: a
// HyperLogLog (Flajolet et al. 2007) of 4,096 registers, standard error about 1.6%, with linear counting
// for small counts. Sketches of engines that split the work merge into the sketch one engine would have: the
// hash is fixed (FNV-1a, then a 64-bit finaliser), never seeded per process.
type distinctSketch struct {
	reg *[sketchRegisters]uint8 // nil until the first string
}

const (
	sketchBits      = 12
	sketchRegisters = 1 << sketchBits
)

func sketchHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 33 // murmur3's fmix64: FNV's low bits alone are poorly spread
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func (d *distinctSketch) add(s string) {
	if d.reg == nil {
		d.reg = new([sketchRegisters]uint8)
	}
	h := sketchHash(s)
	i := h >> (64 - sketchBits)
	rank := uint8(bits.LeadingZeros64(h<<sketchBits|1<<(sketchBits-1)) + 1)
	if rank > d.reg[i] {
		d.reg[i] = rank
	}
}

func (d *distinctSketch) merge(o *distinctSketch) {
	if o.reg == nil {
		return
	}
	if d.reg == nil {
		d.reg = new([sketchRegisters]uint8)
	}
	for i, r := range o.reg {
		d.reg[i] = max(d.reg[i], r)
	}
}

// estimate is the number of distinct strings added, estimated.
func (d *distinctSketch) estimate() int {
	if d.reg == nil {
		return 0
	}
	m := float64(sketchRegisters)
	sum, zeros := 0.0, 0
	for _, r := range d.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int(math.Round(e))
}
