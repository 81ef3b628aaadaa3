package btf

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// realRaws returns the raw BTF of the real test kernels.
func realRaws(b *testing.B) [][]byte {
	var raws [][]byte
	for _, k := range realKernels(b) {
		var data []byte
		var err error
		if k.Path == DefaultKernelPath {
			data = defaultBTF
		} else if data, err = os.ReadFile(k.Path); err != nil {
			b.Fatal(err)
		}
		blobs, err := extract(data, 0)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, blobs[0].raw)
	}
	return raws
}

// variant makes raw BTF distinct (n NULs appended to the string section)
// while keeping it valid, so that caches cannot share it.
func variant(raw []byte, n int) []byte {
	out := append([]byte(nil), raw...)
	strEnd := binary.LittleEndian.Uint32(out[4:]) + binary.LittleEndian.Uint32(out[16:]) + binary.LittleEndian.Uint32(out[20:])
	if int(strEnd) != len(out) {
		panic("string section is not last")
	}
	binary.LittleEndian.PutUint32(out[20:], binary.LittleEndian.Uint32(out[20:])+uint32(n))
	return append(out, make([]byte, n)...)
}

// tenKernelFiles writes ten distinct real-size kernels (raw BTF).
func tenKernelFiles(b *testing.B) []string {
	raws := realRaws(b)
	dir := b.TempDir()
	var paths []string
	for i := range 10 {
		p := filepath.Join(dir, fmt.Sprintf("k%d.btf", i))
		if err := os.WriteFile(p, variant(raws[i%len(raws)], i), 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// BenchmarkLoadKernel: one full kernel, uncached: read, gunzip (the embedded
// default) or not (raw), validate, index, parse.
func BenchmarkLoadKernel(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		p := tenKernelFiles(b)[0]
		b.ReportAllocs()
		for b.Loop() {
			if _, err := NewCache(0).Load(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("embedded-gz", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := NewCache(0).LoadBytes(DefaultKernelPath, defaultBTF); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadTenKernels: ten distinct full kernels through LoadAll.
func BenchmarkLoadTenKernels(b *testing.B) {
	paths := tenKernelFiles(b)
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ks, errs := NewCache(0).LoadAll(paths)
			if len(errs) > 0 || len(ks) != 10 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := NewCache(0)
		c.LoadAll(paths)
		b.ReportAllocs()
		for b.Loop() {
			ks, errs := c.LoadAll(paths)
			if len(errs) > 0 || len(ks) != 10 {
				b.Fatal(errs)
			}
		}
	})
}

// BenchmarkResolve: about 1000 relocations (every relocation of the test
// objects, repeated) against the three real kernels.
func BenchmarkResolve(b *testing.B) {
	var relos []Relocation
	for _, obj := range diffObjects(b) {
		if _, rs, err := objectRelocations(obj); err == nil {
			for _, r := range rs {
				relos = append(relos, r.ours)
			}
		}
	}
	if len(relos) == 0 {
		b.Skip("no objects")
	}
	for len(relos) < 1000 {
		relos = append(relos, relos...)
	}
	relos = relos[:1000]
	kernels := realKernels(b)
	// Warm cilium's lazily inflated types, as a long-running server would.
	for _, k := range kernels {
		for _, r := range relos {
			Resolve(r, k)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range kernels {
			for _, r := range relos {
				Resolve(r, k)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(relos)*len(kernels)), "ns/resolve")
}
