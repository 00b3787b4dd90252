//! Memory admission: every request's bytes are counted against
//! `--max-inflight-bytes` *as they arrive*, before the body is buffered,
//! decoded or converted, so a flood of large requests is refused with a
//! retryable status instead of growing the heap.
//!
//! A [`Meter`] is made per request by a layer in front of both listeners
//! ([`meter_requests`]); it wraps the request body so that each data frame
//! takes its bytes from the shared budget, and rides in the request's
//! extensions so the handler can charge what it builds from the body
//! (the inflated gzip body, the decoded message) to the same request. All of
//! it is returned when the last holder drops the meter, after the export is
//! acknowledged or refused.
//!
//! What is not counted: bytes a connection holds below the body (HTTP/2 flow
//! control lets each gRPC stream buffer up to its window, 1 MiB by default,
//! before the body is read), and the Arrow rows while they wait for the WAL
//! writer, which are smaller than the decoded request that was counted.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Buf as _;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// Budget granularity: permits are KiB.
const UNIT: usize = 1024;

/// The shared budget of in-flight request bytes.
#[derive(Debug, Clone)]
pub struct Budget {
    semaphore: Arc<Semaphore>,
    limit: usize,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Budget {
            semaphore: Arc::new(Semaphore::new(limit.div_ceil(UNIT).max(1))),
            limit,
        }
    }

    /// A meter for one request, holding nothing yet.
    pub fn meter(&self) -> Meter {
        Meter {
            budget: self.clone(),
            held: Arc::new(Mutex::new(None)),
        }
    }

    /// Bytes not currently held by any request.
    pub fn available(&self) -> usize {
        self.semaphore.available_permits() * UNIT
    }
}

/// The bytes one request holds; cloned handles share them, and they go back
/// to the budget when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Meter {
    budget: Budget,
    held: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl Meter {
    /// Takes `bytes` more from the budget, or says the collector is
    /// overloaded (the caller answers with a retryable status).
    pub fn charge(&self, bytes: usize) -> Result<()> {
        let units = u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX);
        if units == 0 {
            return Ok(());
        }
        let permit = Arc::clone(&self.budget.semaphore)
            .try_acquire_many_owned(units)
            .map_err(|_| {
                Error::Overloaded(format!(
                    "in-flight request bytes are at the limit of {}",
                    self.budget.limit
                ))
            })?;
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.as_mut() {
            Some(held) => held.merge(permit),
            None => *held = Some(permit),
        }
        Ok(())
    }

    /// Bytes held (rounded up to whole KiB).
    pub fn held(&self) -> usize {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.as_ref().map_or(0, |p| p.num_permits() * UNIT)
    }
}

/// A request body whose data frames are charged to a [`Meter`] as they
/// arrive. Once the budget cannot take a frame, the rest of the body is read
/// and dropped (up to `drain_limit` bytes in all) and the body then ends with
/// `refuse`'s error: a client still sending gets its 503 / UNAVAILABLE on a
/// connection left in order, instead of a reset it cannot tell from a crash.
#[derive(Debug)]
pub struct MeteredBody<B> {
    inner: B,
    meter: Meter,
    refuse: fn(Error) -> crate::BoxError,
    refused: Option<Error>,
    seen: u64,
    drain_limit: u64,
}

impl<B> MeteredBody<B> {
    /// Wraps `inner`; `refuse` turns an overload into the transport's error.
    pub fn new(
        inner: B,
        meter: Meter,
        refuse: fn(Error) -> crate::BoxError,
        drain_limit: u64,
    ) -> Self {
        MeteredBody {
            inner,
            meter,
            refuse,
            refused: None,
            seen: 0,
            drain_limit,
        }
    }
}

impl<B> Body for MeteredBody<B>
where
    B: Body + Unpin,
    B::Error: Into<crate::BoxError>,
{
    type Data = B::Data;
    type Error = crate::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, crate::BoxError>>> {
        loop {
            let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => frame,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(None) => {
                    let refused = self.refused.take();
                    return Poll::Ready(refused.map(|e| Err((self.refuse)(e))));
                }
                Poll::Pending => return Poll::Pending,
            };
            let len = frame.data_ref().map_or(0, |data| data.remaining());
            self.seen += len as u64;
            if self.refused.is_none() {
                match self.meter.charge(len) {
                    Ok(()) => return Poll::Ready(Some(Ok(frame))),
                    Err(e) => self.refused = Some(e),
                }
            }
            // Refused: drop the frame and keep draining, within limits.
            if self.seen > self.drain_limit {
                let refused = self.refused.take().expect("set above");
                return Poll::Ready(Some(Err((self.refuse)(refused))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.refused.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Puts a fresh [`Meter`] in the request's extensions and meters its body
/// (draining at most `drain_limit` bytes of a refused one). `wrap` rebuilds
/// the transport's body type around the [`MeteredBody`].
pub fn meter_requests<B, W>(
    budget: &Budget,
    request: http::Request<B>,
    refuse: fn(Error) -> crate::BoxError,
    drain_limit: u64,
    wrap: impl FnOnce(MeteredBody<B>) -> W,
) -> http::Request<W> {
    let meter = budget.meter();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(meter.clone());
    let body = MeteredBody::new(body, meter, refuse, drain_limit);
    http::Request::from_parts(parts, wrap(body))
}

/// The request's meter, or a fresh one (for callers outside the listeners).
pub fn of_request(extensions: &http::Extensions, budget: &Budget) -> Meter {
    extensions
        .get::<Meter>()
        .cloned()
        .unwrap_or_else(|| budget.meter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_add_up_and_come_back_when_the_last_handle_drops() {
        let budget = Budget::new(10 * UNIT);
        let meter = budget.meter();
        meter.charge(3 * UNIT).unwrap();
        let other = meter.clone();
        other.charge(UNIT + 1).unwrap();
        assert_eq!(meter.held(), 5 * UNIT);
        assert_eq!(budget.available(), 5 * UNIT);
        assert!(matches!(
            budget.meter().charge(6 * UNIT),
            Err(Error::Overloaded(_))
        ));
        drop(meter);
        assert_eq!(budget.available(), 5 * UNIT, "a handle still holds it");
        drop(other);
        assert_eq!(budget.available(), 10 * UNIT);
    }
}
