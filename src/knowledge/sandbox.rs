//! Where untrusted documents are parsed: a small pool of dedicated threads with a known, large
//! stack, so that a parser failure is a per-document error and never takes the server down.
//!
//! # Why not `spawn_blocking`
//! Tokio's blocking threads have a 2 MiB stack and share their name (`tokio-rt-worker`) with
//! the async workers; a parser that recursed too deep on a hostile page overflowed it, and a
//! stack overflow aborts the whole process (`catch_unwind` cannot catch it). Here every job
//! runs on one of [`THREADS`] threads named `baton-parser` with a [`STACK_BYTES`] stack (only
//! the touched pages become resident), inside `catch_unwind`, so a panic becomes an `Err` for
//! that document.
//!
//! The stack is a second line of defence. The first is that every parser is bounded: the HTML
//! walk stops descending at a fixed depth ([`super::parse`]), JSON bodies go through
//! `serde_json`'s recursion limit, and PDF, whose library cannot be bounded, is read in a child
//! process ([`super::pdf`]).
//!
//! # Back-pressure
//! At most [`QUEUE`] jobs wait at a time; further callers wait (asynchronously) for a slot, so a
//! big crawl slows down instead of piling documents up in memory.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{LazyLock, Mutex};

use tokio::sync::Semaphore;

/// Parser threads.
pub const THREADS: usize = 2;
/// Stack of each parser thread.
pub const STACK_BYTES: usize = 64 * 1024 * 1024;
/// Jobs queued or running at once.
const QUEUE: usize = 32;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    jobs: mpsc::Sender<Job>,
    slots: Semaphore,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let (jobs, rx) = mpsc::channel::<Job>();
    let rx = std::sync::Arc::new(Mutex::new(rx));
    for i in 0..THREADS {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("baton-parser-{i}"))
            .stack_size(STACK_BYTES)
            .spawn(move || loop {
                let job = {
                    let Ok(rx) = rx.lock() else { return };
                    rx.recv()
                };
                match job {
                    // The job catches its own panics (see `run`).
                    Ok(job) => job(),
                    Err(_) => return,
                }
            })
            .expect("spawning a parser thread");
    }
    Pool { jobs, slots: Semaphore::new(QUEUE) }
});

/// Runs `f` on a parser thread and waits for it. A panic in `f` is an `Err` with a message for
/// the document's error list.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let pool = &*POOL;
    let _slot = pool.slots.acquire().await.map_err(|_| "the parser pool has stopped".to_owned())?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let out = catch_unwind(AssertUnwindSafe(f));
        let _ = tx.send(out);
    });
    pool.jobs.send(job).map_err(|_| "the parser pool has stopped".to_owned())?;
    match rx.await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err("the parser failed on this document (malformed file)".to_owned()),
        Err(_) => Err("the parser pool has stopped".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_an_error_and_the_pool_keeps_working() {
        let err = run(|| -> u32 { panic!("boom") }).await.unwrap_err();
        assert!(err.contains("malformed"), "{err}");
        assert_eq!(run(|| 6 * 7).await.unwrap(), 42);
        // The thread name and stack are the pool's, not tokio's.
        let name = run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert!(name.unwrap_or_default().starts_with("baton-parser"));
    }

    #[tokio::test]
    async fn deep_recursion_fits_in_the_parser_stack() {
        // About 8 MiB of frames: four times what a tokio blocking thread has.
        fn down(n: u32) -> u32 {
            let pad = std::hint::black_box([n as u8; 1024]);
            if n == 0 {
                0
            } else {
                down(n - 1) + pad[0] as u32 % 2
            }
        }
        run(|| down(8 * 1024)).await.unwrap();
    }
}
