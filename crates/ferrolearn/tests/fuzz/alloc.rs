//! A global allocator that counts: it refuses (returns null for) any single request above
//! [`MAX_ALLOCATION`] and records it, and tracks the bytes live and their peak, so the
//! harness can fail an input that allocates beyond a fixed bound.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest single allocation a reader may make on a fuzz input (64 MiB): the inputs are a
/// few KiB, so anything near this is sized from a header instead of from the data.
pub const MAX_ALLOCATION: usize = 64 << 20;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator with counting and the single-allocation bound.
pub struct Counting;

impl Counting {
    /// Records a refused request and says so on stderr without allocating (an infallible
    /// allocation then aborts the process, and this line is what is left of the finding).
    fn refuse(size: usize) {
        REFUSED.fetch_max(size, Ordering::Relaxed);
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = size;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut err = std::io::stderr();
        let _ = err.write_all(b"fuzz: refused an allocation of ");
        let _ = err.write_all(&digits[at..]);
        let _ = err.write_all(b" bytes\n");
    }

    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to `System` with the same layout; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            Self::refuse(layout.size());
            return std::ptr::null_mut();
        }
        let p = System.alloc(layout);
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            Self::refuse(layout.size());
            return std::ptr::null_mut();
        }
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            Self::refuse(new_size);
            return std::ptr::null_mut();
        }
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            Self::grew(new_size);
        }
        p
    }
}

/// Starts measuring one input: returns the bytes live now and resets the peak and the
/// refused request.
pub fn start() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    REFUSED.store(0, Ordering::Relaxed);
    live
}

/// After an input: the peak bytes live above `baseline`, and the largest refused request.
pub fn finish(baseline: usize) -> (usize, usize) {
    (
        PEAK.load(Ordering::Relaxed).saturating_sub(baseline),
        REFUSED.load(Ordering::Relaxed),
    )
}
