//! Group commit for disclosures of a few named records.
//!
//! One disclosure per transaction costs a commit and an Ed25519-signed
//! checkpoint each, on the one writer: a few thousand a second at best. So
//! requests are queued to one writer thread, which takes everything waiting
//! (up to a bound), records it in one transaction with one signed checkpoint
//! (`Engine::share_named`), commits, and only then answers each request
//! with its own disclosure. No timer: while one batch is being written the
//! next one queues, so batches grow with the load and a lone request goes
//! straight through.
//!
//! Durability is unchanged: an answer leaves only after the commit that
//! holds it. A request refused (unknown organisation, bad term, a store
//! error of its own) fails alone: `share_named` retries the others one by
//! one if their shared transaction fails.

use std::sync::{Arc, Mutex};

use custody_engine::disclosure::{NamedShare, ShareReport};
use custody_engine::Engine;
use tokio::sync::{mpsc, oneshot};

use crate::problem::{Kind, Problem};
use crate::state::Backend;

/// A request waiting for its batch, and where its answer goes.
struct Job {
    share: NamedShare,
    reply: oneshot::Sender<Result<ShareReport, Problem>>,
}

/// The queue in front of the writer thread. Dropping it ends the thread
/// once the queue is drained.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

fn lost() -> Problem {
    Problem::new(Kind::Internal, "the server could not complete the request")
}

impl GroupCommit {
    /// Starts the writer thread over `writer` (shared with every other state
    /// change, so there is still one writer). At most `max_batch` requests
    /// go in one transaction; a full queue makes senders wait.
    pub(crate) fn start<S: Backend>(writer: Arc<Mutex<Engine<S>>>, max_batch: usize) -> Self {
        let max_batch = max_batch.max(1);
        let (queue, jobs) = mpsc::channel(max_batch * 4);
        std::thread::Builder::new()
            .name("custody-group-commit".into())
            .spawn(move || run(writer, jobs, max_batch))
            .expect("spawning the group-commit thread");
        GroupCommit { queue }
    }

    /// Records `share` in the next batch; answers once that batch committed.
    pub(crate) async fn share(&self, share: NamedShare) -> Result<ShareReport, Problem> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { share, reply })
            .await
            .map_err(|_| lost())?;
        // A closed reply: the writer thread died (a panic); the mutex is
        // poisoned and every write fails the same way.
        answer.await.map_err(|_| lost())?
    }
}

fn run<S: Backend>(writer: Arc<Mutex<Engine<S>>>, mut jobs: mpsc::Receiver<Job>, max: usize) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (shares, replies): (Vec<NamedShare>, Vec<_>) =
            batch.into_iter().map(|j| (j.share, j.reply)).unzip();
        let results: Vec<Result<ShareReport, Problem>> = match writer.lock() {
            Ok(mut engine) => engine
                .share_named(&shares)
                .into_iter()
                .map(|r| r.map_err(Problem::from))
                .collect(),
            Err(_) => shares.iter().map(|_| Err(lost())).collect(),
        };
        metrics::histogram!("custody_group_commit_batch_size").record(shares.len() as f64);
        for (reply, result) in replies.into_iter().zip(results) {
            // The client may have gone; its disclosure stands, as any other.
            let _ = reply.send(result);
        }
    }
}
