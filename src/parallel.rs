//! Running independent work at the same time: the reads that do not depend on each other go out
//! together, so a run waits for one round trip instead of several.
//!
//! Two rules make this safe on any agent. A thread the system refuses to start (a container's
//! process limit, a busy agent) is not an error: its work runs on the caller's thread instead,
//! later but with the same result (`std::thread::spawn` would panic). And no thread is ever joined
//! with `pthread_join`: results come back through a shared slot and a scope waits for its threads
//! by its own counter, so the run never depends on the system's join (which failed once under
//! qemu, aborting a run that had done nothing wrong).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A scope whose threads all end before [`scope`] returns, so they may borrow from the caller.
pub(crate) struct Scope<'scope, 'env: 'scope> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
}

/// Runs `f` with a [`Scope`] to start work in; returns when every started thread has ended.
pub(crate) fn scope<'env, R>(f: impl for<'scope> FnOnce(&Scope<'scope, 'env>) -> R) -> R {
    std::thread::scope(|inner| f(&Scope { inner }))
}

type Work<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// Where a piece of work is. (A mutex and a condition variable rather than a channel: measured
/// on the release binary, 3 KB of code for every result type together instead of 104 KB.)
enum Stage<'a, T> {
    /// Not taken by a thread (yet, or ever: the system refused the thread).
    Queued(Work<'a, T>),
    Running,
    Done(T),
    /// Its thread ended without a result: the work panicked.
    Failed,
}

struct Shared<'a, T> {
    stage: Mutex<Stage<'a, T>>,
    changed: Condvar,
}

impl<'a, T> Shared<'a, T> {
    /// The stage (a poisoned lock still holds a consistent one: every change is one assignment).
    fn lock(&self) -> MutexGuard<'_, Stage<'a, T>> {
        self.stage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, stage: Stage<'a, T>) {
        *self.lock() = stage;
        self.changed.notify_all();
    }
}

/// Marks the work failed when its thread ends without a result, so no one waits for it forever.
struct Ended<'s, 'a, T>(&'s Shared<'a, T>);

impl<T> Drop for Ended<'_, '_, T> {
    fn drop(&mut self) {
        let mut stage = self.0.lock();
        if matches!(*stage, Stage::Running) {
            *stage = Stage::Failed;
            self.0.changed.notify_all();
        }
    }
}

/// Work that was started: running on a thread of its own, or waiting to run on the caller's
/// because the system would not start a thread.
#[must_use = "work that is started is waited for"]
pub(crate) struct Pending<'a, T> {
    shared: Arc<Shared<'a, T>>,
    started: bool,
}

/// `work` made ready for a thread: what the caller keeps, and the closure the thread runs.
fn prepare<'a, T: Send + 'a>(work: impl FnOnce() -> T + Send + 'a) -> (Arc<Shared<'a, T>>, impl FnOnce() + Send + 'a) {
    let shared = Arc::new(Shared { stage: Mutex::new(Stage::Queued(Box::new(work))), changed: Condvar::new() });
    let on_thread = shared.clone();
    let run = move || {
        let work = {
            let mut stage = on_thread.lock();
            match std::mem::replace(&mut *stage, Stage::Running) {
                Stage::Queued(work) => work,
                // Never in practice: the caller runs queued work itself only when no thread started.
                other => {
                    *stage = other;
                    return;
                }
            }
        };
        let ended = Ended(&on_thread);
        on_thread.set(Stage::Done(work()));
        drop(ended);
    };
    (shared, run)
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Starts `work` on a thread of this scope, or keeps it for the caller's thread when the
    /// system will not start one.
    pub(crate) fn start<T: Send + 'scope>(&self, work: impl FnOnce() -> T + Send + 'scope) -> Pending<'scope, T> {
        self.start_with(std::thread::Builder::new(), work)
    }

    /// `start` with the thread's settings (tests ask for a stack no system can give).
    fn start_with<T: Send + 'scope>(&self, thread: std::thread::Builder, work: impl FnOnce() -> T + Send + 'scope) -> Pending<'scope, T> {
        let (shared, run) = prepare(work);
        // The handle is dropped at once: the scope still waits for the thread, and nothing joins
        // it. A refused thread's closure is dropped by the system, the work stays queued.
        let started = thread.spawn_scoped(self.inner, run).is_ok();
        Pending { shared, started }
    }
}

/// Starts `work` on a thread that may outlive the caller's interest in it (a name that never
/// resolves, reads whose result a failed run no longer needs), or keeps it for the caller's
/// thread when the system will not start one.
pub(crate) fn start_detached<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Pending<'static, T> {
    start_detached_with(std::thread::Builder::new(), work)
}

fn start_detached_with<T: Send + 'static>(thread: std::thread::Builder, work: impl FnOnce() -> T + Send + 'static) -> Pending<'static, T> {
    let (shared, run) = prepare(work);
    let started = thread.spawn(run).is_ok();
    Pending { shared, started }
}

impl<T> Pending<'_, T> {
    /// A result that is there already, as work that was started.
    pub(crate) fn ready(value: T) -> Self {
        Pending { shared: Arc::new(Shared { stage: Mutex::new(Stage::Done(value)), changed: Condvar::new() }), started: true }
    }

    /// The work's result: waits for its thread, or runs it here if it never got one.
    pub(crate) fn wait(self) -> T {
        // Without a deadline there is no "not yet": only a result or its thread's panic.
        self.wait_until(None).unwrap_or_else(|| thread_panicked())
    }

    /// The work's result if it is ready within `timeout`; work that never got a thread runs here,
    /// whatever it takes.
    pub(crate) fn wait_timeout(self, timeout: Duration) -> Option<T> {
        // A deadline past the clock's range is no deadline.
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(self, deadline: Option<Instant>) -> Option<T> {
        let mut stage = self.shared.lock();
        loop {
            match std::mem::replace(&mut *stage, Stage::Running) {
                Stage::Done(result) => return Some(result),
                Stage::Queued(work) if !self.started => {
                    drop(stage);
                    return Some(work());
                }
                Stage::Failed => {
                    drop(stage);
                    thread_panicked()
                }
                waiting => *stage = waiting,
            }
            stage = match deadline {
                None => self.shared.changed.wait(stage).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.shared.changed.wait_timeout(stage, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }
}

/// A one-way flag threads wait on: once set, it stays set.
pub(crate) struct Signal {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Signal {
    pub(crate) fn new() -> Self {
        Self { set: Mutex::new(false), changed: Condvar::new() }
    }

    pub(crate) fn set(&self) {
        *self.set.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    pub(crate) fn wait(&self) {
        let mut set = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        while !*set {
            set = self.changed.wait(set).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Sets the flag when dropped, whichever way the holder's work ends.
    pub(crate) fn set_on_drop(&self) -> SetOnDrop<'_> {
        SetOnDrop(self)
    }
}

/// See `Signal::set_on_drop`.
pub(crate) struct SetOnDrop<'a>(&'a Signal);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// A thread that ended without a result panicked (a bug, already reported by the panic hook on
/// that thread): the caller passes the panic on rather than invent a result.
fn thread_panicked() -> ! {
    std::panic::resume_unwind(Box::new("a thread of this run panicked; see the message above"))
}

/// Runs `work` on every item with at most `limit` threads (the caller's among them), and returns
/// the results in item order.
pub(crate) fn map_bounded<I: Sync, T: Send>(items: &[I], limit: usize, work: impl Fn(&I) -> T + Sync) -> Vec<T> {
    map_bounded_with(std::thread::Builder::new, items, limit, work)
}

fn map_bounded_with<I: Sync, T: Send>(
    thread: impl Fn() -> std::thread::Builder,
    items: &[I],
    limit: usize,
    work: impl Fn(&I) -> T + Sync,
) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let worker = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let out = work(item);
            results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(out);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..limit.clamp(1, items.len().max(1)) {
            // A thread the system refuses leaves its share to the others, the caller's included.
            let _ = thread().spawn_scoped(s, worker);
        }
        worker();
    });
    results.into_inner().unwrap_or_else(PoisonError::into_inner).into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_keep_the_items_order_and_threads_stay_within_the_limit() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items: Vec<u32> = (0..40).collect();
        let out = map_bounded(&items, 3, |n| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
            running.fetch_sub(1, Ordering::SeqCst);
            n * 2
        });
        assert_eq!(out, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert!(map_bounded(&Vec::<u32>::new(), 4, |n| *n).is_empty());
    }

    #[test]
    fn a_single_item_runs_on_the_callers_thread() {
        let caller = std::thread::current().id();
        assert_eq!(map_bounded(&[1], 4, |_| std::thread::current().id()), vec![caller]);
    }

    #[test]
    fn started_work_runs_beside_the_caller_and_may_borrow() {
        let words = ["a".to_string(), "b".to_string()];
        let caller = std::thread::current().id();
        let (mine, theirs) = scope(|s| {
            let theirs = s.start(|| (words.join("+"), std::thread::current().id()));
            (words.len(), theirs.wait())
        });
        assert_eq!(mine, 2);
        assert_eq!(theirs.0, "a+b");
        assert_ne!(theirs.1, caller, "the work ran on a thread of its own");
    }

    /// A thread no system starts: its stack alone would be 64 TiB.
    fn refused() -> std::thread::Builder {
        std::thread::Builder::new().stack_size(1 << 46)
    }

    #[test]
    fn work_refused_a_thread_runs_on_the_callers() {
        assert!(refused().spawn(|| ()).is_err(), "the system started a thread with a 64 TiB stack");
        let caller = std::thread::current().id();
        let here = scope(|s| s.start_with(refused(), || std::thread::current().id()).wait());
        assert_eq!(here, caller);
        assert_eq!(start_detached_with(refused(), move || std::thread::current().id()).wait_timeout(Duration::ZERO), Some(caller));
        let ids = map_bounded_with(refused, &[1, 2, 3], 4, |n| (*n, std::thread::current().id()));
        assert_eq!(ids, vec![(1, caller), (2, caller), (3, caller)]);
    }

    #[test]
    fn a_panic_on_a_started_thread_reaches_the_caller_instead_of_a_wait_forever() {
        let scoped = std::panic::catch_unwind(|| scope(|s| s.start(|| -> u32 { panic!("a bug in scoped work") }).wait()));
        assert!(scoped.is_err());
        let detached = std::panic::catch_unwind(|| {
            start_detached(|| -> u32 { panic!("a bug in detached work") }).wait_timeout(Duration::from_secs(60))
        });
        assert!(detached.is_err());
    }

    #[test]
    fn a_detached_thread_can_be_given_up_on() {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let slow = start_detached(move || hold.recv().is_ok());
        assert_eq!(slow.wait_timeout(Duration::from_millis(20)), None);
        drop(release);
        assert_eq!(start_detached(|| 7).wait_timeout(Duration::from_secs(60)), Some(7));
    }
}
