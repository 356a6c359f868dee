//! Items produced in order on a thread of their own, a bounded number ahead of the consumer:
//! what lets the next batches be prepared while the current training step computes.

use std::any::Any;
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};

use crate::{Error, Result};

/// Items `0..count` made by a producer closure on a worker thread, handed over in order.
///
/// The worker stays at most `depth + 1` items ahead (`depth` queued, one being made), so
/// memory stays bounded. Dropping the iterator early stops the worker once it finishes the
/// item in hand and waits for it, so no thread outlives it. A worker that panics ends the
/// iteration with an error carrying the panic's message instead of a short, silent epoch.
///
/// ```
/// # fn main() -> ferrolearn::Result<()> {
/// use ferrolearn::data::Prefetch;
/// let squares: Vec<usize> = Prefetch::spawn(4, 2, |i| i * i)?.collect::<Result<_, _>>()?;
/// assert_eq!(squares, [0, 1, 4, 9]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Prefetch<T> {
    /// `None` once the worker is gone.
    receiver: Option<Receiver<T>>,
    worker: Option<JoinHandle<()>>,
    /// Items not yet handed over.
    remaining: usize,
}

impl<T: Send + 'static> Prefetch<T> {
    /// Starts a worker thread making `produce(0)`, `produce(1)`, ... `produce(count - 1)`.
    ///
    /// # Errors
    /// `Training` when the operating system cannot start the thread.
    pub fn spawn<F>(count: usize, depth: usize, mut produce: F) -> Result<Prefetch<T>>
    where
        F: FnMut(usize) -> T + Send + 'static,
    {
        let (sender, receiver) = mpsc::sync_channel(depth);
        let worker = thread::Builder::new()
            .name("ferrolearn-prefetch".into())
            .spawn(move || {
                for i in 0..count {
                    // A closed channel means the consumer stopped early: nothing more to make.
                    if sender.send(produce(i)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| {
                Error::Training(format!("cannot start the batch-preparing thread: {e}"))
            })?;
        Ok(Prefetch {
            receiver: Some(receiver),
            worker: Some(worker),
            remaining: count,
        })
    }
}

impl<T> Prefetch<T> {
    /// Closes the channel (so a worker blocked on a full queue stops) and waits for the
    /// worker; returns why it ended early, if it did.
    fn shut_down(&mut self) -> Option<String> {
        self.receiver = None;
        match self.worker.take()?.join() {
            Ok(()) => None,
            Err(payload) => Some(panic_message(payload.as_ref())),
        }
    }
}

impl<T> Iterator for Prefetch<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.remaining == 0 {
            return None;
        }
        match self.receiver.as_ref()?.recv() {
            Ok(item) => {
                self.remaining -= 1;
                Some(Ok(item))
            }
            Err(mpsc::RecvError) => {
                let left = std::mem::take(&mut self.remaining);
                let reason = self
                    .shut_down()
                    .unwrap_or_else(|| "it ended without a panic".into());
                Some(Err(Error::Training(format!(
                    "the batch-preparing thread stopped with {left} items to go: {reason}"
                ))))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // An early failure yields one error and ends.
        (self.remaining.min(1), Some(self.remaining))
    }
}

impl<T> Drop for Prefetch<T> {
    fn drop(&mut self) {
        // A panic was already reported by the iterator or is of no interest to a consumer
        // that stopped listening.
        let _ = self.shut_down();
    }
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn items_arrive_in_order_and_all_of_them() {
        let items: Vec<usize> = Prefetch::spawn(100, 2, |i| 3 * i)
            .expect("thread")
            .map(|r| r.expect("no failure"))
            .collect();
        assert_eq!(items, (0..100).map(|i| 3 * i).collect::<Vec<_>>());
        assert_eq!(Prefetch::spawn(0, 2, |i| i).expect("thread").count(), 0);
    }

    #[test]
    fn the_worker_stays_a_bounded_number_ahead() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let mut items = Prefetch::spawn(50, 2, move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            i
        })
        .expect("thread");
        assert_eq!(items.next().map(|r| r.expect("ok")), Some(0));
        // Give the worker time to run as far ahead as it may.
        thread::sleep(std::time::Duration::from_millis(50));
        let ahead = made.load(Ordering::SeqCst);
        assert!(ahead <= 1 + 3, "{ahead} items made after one was taken");
    }

    #[test]
    fn dropping_early_stops_and_joins_the_worker() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let mut items = Prefetch::spawn(1_000_000, 2, move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            vec![i; 1000]
        })
        .expect("thread");
        for _ in 0..3 {
            items.next().expect("an item").expect("no failure");
        }
        drop(items); // returns only once the worker has ended
        let after_drop = made.load(Ordering::SeqCst);
        assert!(after_drop <= 3 + 3, "{after_drop} items made");
        thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            made.load(Ordering::SeqCst),
            after_drop,
            "the worker is gone"
        );
    }

    #[test]
    fn a_panicking_worker_becomes_an_error() {
        let mut items = Prefetch::spawn(10, 2, |i| {
            assert!(i != 4, "item {i} cannot be made");
            i
        })
        .expect("thread");
        for want in 0..4 {
            assert_eq!(items.next().map(|r| r.expect("ok")), Some(want));
        }
        let err = items.next().expect("an error").unwrap_err().to_string();
        assert!(
            err.contains("stopped with 6 items to go: item 4 cannot be made"),
            "{err}"
        );
        assert!(items.next().is_none(), "the iteration ends after the error");
    }
}
