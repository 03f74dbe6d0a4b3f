//! The one way mlguard spreads work over threads. A scanner that loses a worker must not report
//! fewer findings: a worker that panics becomes an error (the scan exits 2), never an empty
//! result, and no lock is ever skipped because another thread panicked while holding it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A worker thread panicked; what it was doing is lost, so the whole job fails.
#[derive(Debug, Clone, thiserror::Error)]
#[error("internal error: a worker thread panicked ({message}); nothing was reported as clean")]
pub struct Panicked {
    pub message: String,
}

impl Panicked {
    fn from_payload(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Panicked { message }
    }
}

/// How many threads to use for `items` pieces of work: the machine's cores, at most one per item.
pub fn threads_for(items: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(items.max(1))
}

/// Runs `job` on every item on up to `threads` threads and returns the results in item order.
/// The first error (in item order) is returned and the remaining items are not started; a
/// panicking worker is an error too.
pub fn map<T, R, E>(
    items: &[T],
    threads: usize,
    job: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send + From<Panicked>,
{
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done: Vec<(usize, Result<R, E>)> = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            let result = job(item);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((index, result));
        }
        done
    };
    let joined = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1)).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().map_err(|p| Panicked::from_payload(&*p)))
            .collect::<Vec<_>>()
    });
    let mut results: Vec<(usize, Result<R, E>)> = Vec::with_capacity(items.len());
    for worker_results in joined {
        results.extend(worker_results?);
    }
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// A piece of work for `join_all`.
pub type Task<'a, R, E> = Box<dyn FnOnce() -> Result<R, E> + Send + 'a>;

/// Runs each task on its own thread and returns their results in order; a panic is an error.
pub fn join_all<R, E>(tasks: Vec<Task<'_, R, E>>) -> Result<Vec<R>, E>
where
    R: Send,
    E: Send + From<Panicked>,
{
    let joined = std::thread::scope(|scope| {
        let handles: Vec<_> = tasks.into_iter().map(|task| scope.spawn(task)).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().map_err(|p| Panicked::from_payload(&*p)))
            .collect::<Vec<_>>()
    });
    joined
        .into_iter()
        .map(|result| result.map_err(E::from).and_then(|inner| inner))
        .collect()
}

/// A mutex whose poisoning (another thread panicked while holding it) is an error, not a skip.
pub fn lock<T>(mutex: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, Panicked> {
    mutex.lock().map_err(|_| Panicked {
        message: "a lock was poisoned by a panicking thread".into(),
    })
}

/// A fault injected for tests in debug builds only: `MLGUARD_DEBUG_PANIC_ON=TEXT` makes the scan
/// worker that handles a path containing TEXT panic, to prove that a crash is never a clean pass.
/// Release builds compile this to nothing.
pub fn debug_fault(path: &str) {
    #[cfg(debug_assertions)]
    if let Some(trigger) = std::env::var_os("MLGUARD_DEBUG_PANIC_ON") {
        if !trigger.is_empty() && path.contains(&*trigger.to_string_lossy()) {
            panic!("fault injected for {path}");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Failure {
        Job(usize),
        Panic,
    }

    impl From<Panicked> for Failure {
        fn from(_: Panicked) -> Self {
            Failure::Panic
        }
    }

    #[test]
    fn results_keep_item_order() {
        let items: Vec<usize> = (0..100).collect();
        let doubled = map(&items, 4, |&i| Ok::<_, Failure>(i * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_wins() {
        let items: Vec<usize> = (0..50).collect();
        let result = map(&items, 3, |&i| {
            if i == 7 || i == 30 {
                Err(Failure::Job(i))
            } else {
                Ok(i)
            }
        });
        assert!(matches!(result, Err(Failure::Job(7 | 30))));
    }

    #[test]
    fn a_panicking_worker_is_an_error_not_fewer_results() {
        let items: Vec<usize> = (0..20).collect();
        let result = map(&items, 2, |&i| {
            assert!(i != 11, "boom");
            Ok::<_, Failure>(i)
        });
        assert_eq!(result, Err(Failure::Panic));
        let tasks: Vec<Task<usize, Failure>> =
            vec![Box::new(|| Ok(1)), Box::new(|| panic!("boom"))];
        assert_eq!(join_all(tasks), Err(Failure::Panic));
    }
}
