//! Tensor storage that is recycled instead of freed.
//!
//! A training step allocates and drops the same large buffers (activations, their gradients)
//! at every step. Asking the allocator for them again costs a zeroing pass (`vec![0.0; n]`
//! writes every element; it was 11% of a ResNet-20 step) and, when the allocator hands memory
//! back to the system, page faults. Dropped storage of at least [`MIN_RECYCLED`] elements goes
//! instead to a process-wide pool keyed by length, and [`take`] hands it out again with its old
//! contents: kernels that overwrite every element (most op outputs) ask for it that way, and
//! [`zeroed`] serves the ones that accumulate. The pool holds at most [`MAX_POOLED_BYTES`];
//! beyond that a dropped buffer is freed. Recycling never changes a result: stale contents
//! are always overwritten before they are read (the op tests compare against fresh buffers).

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers shorter than this (64 KiB) are left to the allocator, which is fast for them.
const MIN_RECYCLED: usize = 1 << 14;
/// Upper bound on the memory the pool keeps for reuse (1 GiB).
const MAX_POOLED_BYTES: usize = 1 << 30;

/// Free buffers by length, and their total size in bytes.
struct Pool {
    free: HashMap<usize, Vec<Vec<f32>>>,
    bytes: usize,
}

impl Pool {
    /// A free buffer of `len` elements; when there is none, frees pooled buffers of other
    /// lengths worth at least as much, so that the pool and the live tensors together never
    /// hold more than the largest working set seen (sizes no longer asked for drain away).
    fn take_or_shrink(&mut self, len: usize) -> Option<Vec<f32>> {
        if let Some(v) = self.free.get_mut(&len).and_then(Vec::pop) {
            self.bytes -= len * size_of::<f32>();
            return Some(v);
        }
        let mut freed = 0;
        while freed < len && self.bytes > 0 {
            let Some(key) = self
                .free
                .iter()
                .find(|(_, v)| !v.is_empty())
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(v) = self.free.get_mut(&key).and_then(Vec::pop) {
                freed += v.len();
                self.bytes -= v.len() * size_of::<f32>();
            }
        }
        None
    }
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    // A panic while the lock is held cannot leave the pool inconsistent (every update is a
    // push or pop plus the byte count), so a poisoned lock is simply taken over.
    let mut guard = POOL.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(|| Pool {
        free: HashMap::new(),
        bytes: 0,
    }))
}

/// A buffer of `len` elements whose contents are unspecified (left over from an earlier
/// tensor): for outputs that are overwritten in full. Debug builds (the tests) fill it with
/// NaN, so that an op which leaves any element unwritten fails its tests.
pub(crate) fn take(len: usize) -> Vec<f32> {
    let reused = (len >= MIN_RECYCLED)
        .then(|| with_pool(|p| p.take_or_shrink(len)))
        .flatten();
    match reused {
        Some(mut v) => {
            if cfg!(debug_assertions) {
                v.fill(f32::NAN);
            }
            v
        }
        None if cfg!(debug_assertions) => vec![f32::NAN; len],
        None => vec![0.0; len],
    }
}

/// A buffer of `len` zeros, recycled when one is free.
pub(crate) fn zeroed(len: usize) -> Vec<f32> {
    let mut v = take(len);
    v.fill(0.0);
    v
}

/// Returns a buffer to the pool (or frees it when it is small or the pool is full).
fn recycle(v: Vec<f32>) {
    let len = v.len();
    if len < MIN_RECYCLED || v.capacity() != len {
        return;
    }
    let bytes = len * size_of::<f32>();
    with_pool(|p| {
        if p.bytes + bytes <= MAX_POOLED_BYTES {
            p.bytes += bytes;
            p.free.entry(len).or_default().push(v);
        }
    });
}

/// The elements of a tensor: a `Vec<f32>` that goes back to the pool when dropped.
pub(super) struct Storage(Vec<f32>);

impl Storage {
    pub(super) fn new(v: Vec<f32>) -> Storage {
        Storage(v)
    }

    /// The vector, which then no longer returns to the pool by itself.
    pub(super) fn into_vec(mut self) -> Vec<f32> {
        std::mem::take(&mut self.0)
    }
}

impl Clone for Storage {
    fn clone(&self) -> Storage {
        let mut v = take(self.0.len());
        v.copy_from_slice(&self.0);
        Storage(v)
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.0));
    }
}

impl Deref for Storage {
    type Target = Vec<f32>;
    fn deref(&self) -> &Vec<f32> {
        &self.0
    }
}

impl DerefMut for Storage {
    fn deref_mut(&mut self) -> &mut Vec<f32> {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_storage_is_handed_out_again() {
        // A length no other test uses, so the pool entry is this test's own.
        let len = MIN_RECYCLED + 12_345;
        let v = zeroed(len);
        let ptr = v.as_ptr();
        drop(Storage::new(v));
        let again = take(len);
        assert_eq!(again.as_ptr(), ptr);
        // Debug builds mark reused contents as NaN so that unwritten elements show.
        assert_eq!(again.iter().all(|x| x.is_nan()), cfg!(debug_assertions));
        drop(Storage::new(again));
        assert!(zeroed(len).iter().all(|&x| x == 0.0));
    }

    #[test]
    fn small_buffers_are_not_pooled() {
        let v = vec![1.0f32; 16];
        drop(Storage::new(v));
        assert!(with_pool(|p| !p.free.contains_key(&16)));
    }
}
