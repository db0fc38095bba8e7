//! The accept loop, and what it refuses a hostile client: hyper's own
//! HTTP/1.1 connections (what `axum::serve` ran, without its limits), each
//! with a header timeout, a body deadline and a place under a cap.
//!
//! - A connection must send its request's headers within
//!   [`Limits::header_timeout`] of opening, or of the end of its previous
//!   response: HTTP/1.1 waits for the next request's headers the same way,
//!   so the same timeout closes idle keep-alive connections.
//! - A request's body must arrive within [`Limits::body_timeout`] of the
//!   server waiting for it (time the server spends on what it already has
//!   does not count, so a large upload processed as it streams is not cut).
//! - Past [`Limits::max_connections`] open connections a new one is told
//!   503 at once, with `Retry-After`, and closed, instead of waiting in the
//!   listen queue behind idle clients.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::Router;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::problem::{Kind, Problem};

/// How long clients may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For a request's headers, counted from the connection opening or its
    /// previous response ending.
    pub header_timeout: Duration,
    /// For a request's body: the time the server spends waiting for it.
    pub body_timeout: Duration,
    /// Open connections; past it a new one is answered 503 and closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// The seconds a refused client is told to wait.
const RETRY_AFTER: u64 = 1;

/// How long a refused connection or request is kept to read what the
/// client sends before it is closed: closing with unread bytes resets the
/// connection, and a client that sends before it reads (most do: few send
/// `Expect: 100-continue`) would lose the answer.
const LINGER: Duration = Duration::from_secs(1);

/// How much of a refused request's body is read and dropped, at most.
const LINGER_BYTES: usize = 1 << 20;

/// Serves `app` on `listener` until `shutdown` resolves, then stops taking
/// connections, closes idle ones and finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Refusals are cheap but not free: as many at once as connections.
    let refusing = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(place) = open.clone().try_acquire_owned() else {
            metrics::counter!(crate::metrics::REFUSED).increment(1);
            if let Ok(turn) = refusing.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(turn);
                });
            }
            continue;
        };
        // Small answers go out at once, not after Nagle's delay.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().map_request(
            move |req: axum::http::Request<Incoming>| {
                let mut req = req.map(|b| Body::new(Deadline::new(b, limits.body_timeout)));
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        ));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        metrics::gauge!(crate::metrics::CONNECTIONS).increment(1);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            metrics::gauge!(crate::metrics::CONNECTIONS).decrement(1);
            drop(place);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A failed accept: a client that gave up is nothing; anything else (out of
/// file descriptors) is waited out, as hyper did.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; waiting a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The 503 a connection past the cap gets, whole, as bytes on the wire.
fn refusal() -> Vec<u8> {
    let problem = Problem::new(
        Kind::Unavailable,
        "the server has as many connections open as it takes; try again shortly",
    );
    let body = serde_json::to_vec(&problem).expect("problems serialise");
    let mut out = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: {RETRY_AFTER}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Answers 503 without waiting for the request, then reads what the client
/// sends for a moment so that closing does not reset the connection.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(LINGER, async {
        stream.write_all(&refusal()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Reads and drops a refused request's body for a moment (see [`LINGER`]),
/// on a task of its own, while the refusal is sent.
pub fn linger(mut body: Body) {
    tokio::spawn(tokio::time::timeout(LINGER, async move {
        let mut read = 0;
        while read < LINGER_BYTES {
            let frame =
                std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx));
            match frame.await {
                Some(Ok(f)) => read += f.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
    }));
}

/// A request body that did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A request body with a budget of time spent waiting for it.
struct Deadline {
    inner: Incoming,
    budget: Duration,
    /// Time waited on earlier frames.
    waited: Duration,
    /// When the wait for the current frame began, and its alarm.
    waiting: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl Deadline {
    fn new(inner: Incoming, budget: Duration) -> Deadline {
        Deadline {
            inner,
            budget,
            waited: Duration::ZERO,
            waiting: None,
        }
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if let Some((since, _)) = this.waiting.take() {
                this.waited += since.elapsed();
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let (budget, waited) = (this.budget, this.waited);
        let (_, alarm) = this.waiting.get_or_insert_with(|| {
            let now = Instant::now();
            let left = budget.saturating_sub(waited);
            (now, Box::pin(tokio::time::sleep_until(now + left)))
        });
        match alarm.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(budget))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `e`, or what caused it, is a body that timed out.
pub fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut at = Some(e);
    while let Some(e) = at {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        at = e.source();
    }
    false
}
