//! Waiting for the journal to make a write durable, with one cross-thread wake-up per io thread.
//!
//! Under `appendfsync always` every connection with a write in the batch waits for the fsync
//! that covers it. If each registered its own waker with the journal queue, the writer thread
//! would wake every waiting connection from outside its runtime, and each such wake-up costs
//! the io thread a system call (the runtime is unparked through an event fd). Instead the first
//! waiter on a thread is its *leader*: only it registers with the queue; the others register
//! with the thread, and whenever the leader is woken it wakes them locally (a push onto the run
//! queue, no system call). When the leader finishes or goes away, the next waiter to be polled
//! takes over.
//!
//! Connections never move between threads (each io thread runs a current-thread runtime), so
//! a thread-local list is enough.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use okdb_engine::journal::Queue;

#[derive(Default)]
struct Local {
    /// A waiter on this thread is registered with the queue.
    leader: bool,
    followers: Vec<Waker>,
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
}

/// Resolves when everything up to `lsn` is durable (Ok) or the journal has failed first (Err
/// with the reason).
pub fn wait(queue: &Queue, lsn: u64) -> Durable<'_> {
    Durable {
        queue,
        lsn,
        leader: false,
    }
}

#[derive(Debug)]
pub struct Durable<'a> {
    queue: &'a Queue,
    lsn: u64,
    leader: bool,
}

impl Durable<'_> {
    fn check(&self) -> Option<Result<(), String>> {
        if self.queue.durable() >= self.lsn {
            Some(Ok(()))
        } else {
            self.queue.failure().map(Err)
        }
    }

    /// Gives up leadership (if held) and wakes the followers: they check their own LSN, and
    /// the first still waiting becomes the leader.
    fn step_down(&mut self) {
        let followers = LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if self.leader {
                l.leader = false;
                self.leader = false;
            }
            std::mem::take(&mut l.followers)
        });
        for w in followers {
            w.wake();
        }
    }
}

impl Future for Durable<'_> {
    type Output = Result<(), String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.leader {
            // Woken by the queue: durability moved (or the journal failed) for everyone here.
            self.step_down();
        }
        if let Some(done) = self.check() {
            return Poll::Ready(done);
        }
        let lead = LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if l.leader {
                l.followers.push(cx.waker().clone());
                false
            } else {
                l.leader = true;
                true
            }
        });
        if lead {
            self.leader = true;
            self.queue.register_waker(cx.waker());
        }
        // Checked again after registering, so progress between the two checks is not missed.
        match self.check() {
            Some(done) => {
                if self.leader {
                    self.step_down();
                }
                Poll::Ready(done)
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for Durable<'_> {
    fn drop(&mut self) {
        if self.leader {
            self.step_down();
        }
    }
}
