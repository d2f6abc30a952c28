//! Persistent worker threads for the pieces of a split pass
//! ([`Spec::loss_and_gradients_split`](embergrad::Spec::loss_and_gradients_split)) and of an
//! optimizer's update ([`Step::step_split`](embergrad::Step::step_split)).
//!
//! A split training step forks and joins once per large product, five times a step for an
//! MNIST-sized network. A thread pool whose idle threads sleep pays a wake-up each time (tens
//! of microseconds on a virtual machine, as much as a product's share of the work at batch
//! 64). These workers instead spin on an atomic for a while after each piece, so the next
//! product finds them awake, and sleep only after 500 µs without work (`SPIN`).
//!
//! Pieces are claimed one at a time from a shared counter, so a core slowed by a busy
//! neighbour simply claims fewer of them; which thread runs a piece never changes what it
//! computes.
#![allow(unsafe_code)] // the caller's task and items cross to the workers as raw pointers; see `Job`, `Items`

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use embergrad::{Executor, InOrder, Spec};

/// How long an idle worker spins before it sleeps: longer than the sequential stretches of a
/// training step (activations, loss, the optimizer's update, the next minibatch's gather),
/// short enough that a worker does not burn a core between epochs.
const SPIN: Duration = Duration::from_micros(500);

/// What the workers run: piece `i` of the current job.
type Task = dyn Fn(usize) + Sync;

/// One `for_each` call, as the workers see it.
///
/// `task` borrows from the caller's stack, its lifetime erased. It is called only by a thread
/// that has claimed one of the job's pieces (a compare-exchange on [`Shared::claim`] that
/// includes the job's generation), and the caller does not return before every piece of its
/// job has finished, so it is alive whenever it is called.
#[derive(Clone, Copy)]
struct Job {
    generation: u32,
    task: *const Task,
    pieces: u32,
}

// SAFETY: see `Job`: the task is `Sync` and used only while the caller keeps it alive.
unsafe impl Send for Job {}

/// The caller's items, for the task that hands piece `i` its item.
struct Items<T>(*mut T);

// SAFETY: the item behind each index is handed to one thread only (the one that claimed the
// index), so sharing the pointer shares no `T`; `T: Send` lets that thread have it.
unsafe impl<T: Send> Sync for Items<T> {}

/// What the caller and the workers share.
struct Shared {
    /// The current job's generation (high 32 bits) and its next unclaimed piece (low 32).
    claim: AtomicU64,
    /// The current job; workers copy it when the generation changes.
    job: Mutex<Option<Job>>,
    /// Wakes sleeping workers (with `job`'s lock: a new job is published under it).
    wake: Condvar,
    /// Pieces of the current job that have finished.
    finished: AtomicU32,
    /// A piece of the current job panicked.
    panicked: AtomicBool,
    shutdown: AtomicBool,
}

impl Shared {
    fn generation(&self) -> u32 {
        (self.claim.load(Ordering::Acquire) >> 32) as u32
    }

    /// Claims and runs pieces of `job` until none is left.
    fn run_pieces(&self, job: &Job) {
        loop {
            let claim = self.claim.load(Ordering::Acquire);
            let piece = claim as u32;
            if (claim >> 32) as u32 != job.generation || piece >= job.pieces {
                return;
            }
            if self.claim.compare_exchange_weak(claim, claim + 1, Ordering::AcqRel, Ordering::Acquire).is_err() {
                continue;
            }
            // SAFETY: this thread claimed a piece of `job`, whose caller is still waiting for
            // it (see `Job`).
            let task = unsafe { &*job.task };
            if catch_unwind(AssertUnwindSafe(|| task(piece as usize))).is_err() {
                self.panicked.store(true, Ordering::Release);
            }
            self.finished.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A worker's life: wait for a new generation (spinning, then sleeping), run its pieces.
    fn work(&self) {
        let mut seen = self.generation();
        loop {
            let idle_since = Instant::now();
            while self.generation() == seen {
                if self.shutdown.load(Ordering::Acquire) {
                    return;
                }
                if idle_since.elapsed() < SPIN {
                    // Yield rather than spin in place: should the scheduler have put this
                    // worker on the caller's core, the caller gets the core back at once.
                    std::thread::yield_now();
                    continue;
                }
                let mut job = self.job.lock().unwrap_or_else(|e| e.into_inner());
                while self.generation() == seen && !self.shutdown.load(Ordering::Acquire) {
                    job = self.wake.wait(job).unwrap_or_else(|e| e.into_inner());
                }
            }
            seen = self.generation();
            let job = *self.job.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(job) = job.filter(|job| job.generation == seen) {
                self.run_pieces(&job);
            }
        }
    }
}

/// Threads worth starting for the split pass of `spec` at `batch` samples: the machine's
/// cores, but no more than the most pieces any product is cut into
/// ([`Spec::split_pieces`]): 1 for a network too small to split, whose pass would only
/// wake threads to give them nothing.
pub fn default_threads(spec: &Spec<'_>, batch: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(spec.split_pieces(batch))
}

/// The calling thread plus `threads - 1` persistent workers, as an [`Executor`] for the split
/// pass. One caller at a time: a call made while another is running runs its pieces in order
/// on its own thread.
pub struct Workers {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    busy: AtomicBool,
    /// Whether calls share their pieces with the workers (see [`Workers::set_sharing`]).
    sharing: AtomicBool,
    next_generation: AtomicU32,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").field("threads", &self.threads()).finish()
    }
}

impl Workers {
    /// The calling thread and `threads - 1` workers (none for `threads ≤ 1`).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            claim: AtomicU64::new(0),
            job: Mutex::new(None),
            wake: Condvar::new(),
            finished: AtomicU32::new(0),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
        });
        let mut workers = Workers {
            shared,
            threads: Vec::new(),
            busy: AtomicBool::new(false),
            sharing: AtomicBool::new(true),
            next_generation: AtomicU32::new(1),
        };
        for i in 1..threads {
            let shared = Arc::clone(&workers.shared);
            // On an error, dropping `workers` stops the threads started so far.
            let handle =
                std::thread::Builder::new().name(format!("embergrad-worker-{i}")).spawn(move || shared.work())?;
            workers.threads.push(handle);
        }
        Ok(workers)
    }

    /// Threads that run pieces, the caller's included.
    pub fn threads(&self) -> usize {
        self.threads.len() + 1
    }

    /// Shares pieces with the workers (`true`, the start) or runs every call's pieces on its
    /// own thread (`false`), e.g. while the machine's other cores do not pay (see
    /// [`crate::pace`]). Results are the same either way.
    pub fn set_sharing(&self, sharing: bool) {
        self.sharing.store(sharing, Ordering::Relaxed);
    }

    /// Whether calls share their pieces with the workers: they have any, and
    /// [`Workers::set_sharing`] has not turned sharing off.
    pub fn is_sharing(&self) -> bool {
        !self.threads.is_empty() && self.sharing.load(Ordering::Relaxed)
    }
}

impl Workers {
    /// Runs `task(i)` for every `i < pieces` on the caller and the workers; returns, when all
    /// have returned, whether any of them panicked.
    fn run(&self, pieces: u32, task: &(dyn Fn(usize) + Sync + '_)) -> bool {
        let shared = &*self.shared;
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        shared.finished.store(0, Ordering::Release);
        shared.panicked.store(false, Ordering::Release);
        // SAFETY: only the lifetime changes (see `Job`: the task is used while this call waits).
        let task = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Task>(task) };
        let job = Job { generation, task, pieces };
        {
            let mut current = shared.job.lock().unwrap_or_else(|e| e.into_inner());
            *current = Some(job);
            shared.claim.store(u64::from(generation) << 32, Ordering::Release);
        }
        shared.wake.notify_all();
        shared.run_pieces(&job);
        // Wait for the pieces the workers took; yield after a while, so that a worker sharing
        // this core (a busy machine) gets to finish its piece.
        let mut rounds = 0u32;
        while shared.finished.load(Ordering::Acquire) < pieces {
            if rounds < 1 << 12 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            rounds = rounds.saturating_add(1);
        }
        *shared.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
        shared.panicked.load(Ordering::Acquire)
    }
}

impl Executor for Workers {
    fn for_each<T: Send>(&self, items: &mut [T], task: &(dyn Fn(usize, &mut T) + Sync)) {
        let pieces = match u32::try_from(items.len()) {
            Ok(pieces) if pieces >= 2 && self.is_sharing() => pieces,
            _ => return InOrder.for_each(items, task),
        };
        if self.busy.swap(true, Ordering::Acquire) {
            // Another thread is using the workers: this caller runs its own pieces.
            return InOrder.for_each(items, task);
        }
        let base = Items(items.as_mut_ptr());
        let base = &base;
        let panicked = self.run(pieces, &|i| {
            // SAFETY: `i < items.len()`, and each index is claimed by one thread only, so this
            // is the only reference to item `i`; `items` outlives the call (`run` waits).
            let item = unsafe { &mut *base.0.add(i) };
            task(i, item);
        });
        self.busy.store(false, Ordering::Release);
        if panicked {
            panic!("a piece run by embergrad's workers panicked");
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        {
            let _job = self.shared.job.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.wake.notify_all();
        }
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}
