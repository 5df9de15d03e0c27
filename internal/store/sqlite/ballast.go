package sqlite

import (
	"sync"

	"modernc.org/libc"
)

var pinOnce sync.Once

// allocator page geometry of modernc.org/memory, which backs libc.Xmalloc.
const (
	allocPageSize = 64 << 10
	maxSmallAlloc = allocPageSize / 4
)

// pinAllocatorPages works around an interaction between SQLite and modernc's
// C allocator. That allocator carves small allocations out of 64 KiB pages,
// one size class per page, and unmaps a page the moment its last slot is
// freed. The writer opens and releases a savepoint per op; SQLite keeps the
// savepoint's journal in ~1 KiB chunks and frees them all on RELEASE, so the
// pages holding them were mapped and unmapped on every op. munmap in a
// multi-threaded process is costly (TLB shootdown): it was half of the
// writer's CPU in profiles. Holding one slot in each of a few pages per size
// class keeps those pages mapped for the life of the process, and freed slots
// on them are reused first. Cost: pages×classes×64 KiB, about 3 MiB.
func pinAllocatorPages() {
	pinOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		for size := 16; size <= maxSmallAlloc; size *= 2 {
			pages := 2
			if size == 2<<10 {
				pages = 16 // the class of SQLite's in-memory journal chunks
			}
			pin(tls, size, pages)
		}
	})
}

// pin allocates slots of the given size until it holds one in each of pages
// distinct allocator pages, and frees the rest.
func pin(tls *libc.TLS, size, pages int) {
	kept := map[uintptr]bool{}
	var spare []uintptr
	for len(kept) < pages && len(spare) < pages*allocPageSize/size+pages {
		p := libc.Xmalloc(tls, uint64(size))
		if p == 0 {
			break
		}
		if pg := p &^ (allocPageSize - 1); !kept[pg] {
			kept[pg] = true
			continue
		}
		spare = append(spare, p)
	}
	for _, p := range spare {
		libc.Xfree(tls, p)
	}
}
