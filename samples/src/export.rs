//! How the demo's nodes hand their spans to the OTLP exporter.
//!
//! The SDK's `BatchSpanProcessor` queues spans for an export thread of its
//! own and drops whatever its queue cannot hold. The simulation ends spans
//! far faster than they can be exported, so to lose none that queue had to
//! hold a whole run: a million slots per node, allocated and written up
//! front, about 390 MB a node and 3 GB for the default run of 8 nodes (peak
//! RSS 3.08 GB for 21,876 spans). [`InlineBatches`] exports on the
//! simulation's thread instead: spans gather in a batch that grows as it
//! needs, and every [`BATCH`] of them the simulation waits for the export.
//! Nothing is dropped, nothing is reserved, and a failed export fails the
//! run instead of vanishing from it.

use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter as _, SpanProcessor};

/// Spans per export request.
pub const BATCH: usize = 512;

/// A span processor that exports each full batch on the thread that ended
/// its last span (see the module's docs). It must be used from a thread
/// that may block: the simulation's, under `spawn_blocking`, where the
/// gRPC exporter's client finds the runtime it was built on. Exports are
/// awaited with a plain executor, as the SDK's simple processor does: the
/// HTTP exporter's blocking client refuses to run inside tokio's.
#[derive(Debug)]
pub struct InlineBatches {
    exporter: SpanExporter,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    pending: Vec<SpanData>,
    /// The first export that failed.
    failed: Option<OTelSdkError>,
}

impl InlineBatches {
    /// Exports through `exporter`.
    pub fn new(exporter: SpanExporter) -> Self {
        InlineBatches {
            exporter,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Exports what is pending, holding the lock so that batches go out in
    /// order, one at a time (as the exporter requires).
    fn export_pending(&self, state: &mut State) {
        if state.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut state.pending);
        if let Err(e) = futures::executor::block_on(self.exporter.export(batch))
            && state.failed.is_none()
        {
            state.failed = Some(e);
        }
    }

    /// Exports what is pending and reports the first failure of the run.
    fn flush(&self) -> OTelSdkResult {
        let mut state = self.state();
        self.export_pending(&mut state);
        match &state.failed {
            None => Ok(()),
            Some(e) => Err(OTelSdkError::InternalFailure(format!(
                "an export failed: {e}"
            ))),
        }
    }
}

impl SpanProcessor for InlineBatches {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        let mut state = self.state();
        state.pending.push(span);
        if state.pending.len() >= BATCH {
            self.export_pending(&mut state);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let flushed = self.flush();
        let shut = self.exporter.shutdown_with_timeout(timeout);
        flushed.and(shut)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_otlp::WithExportConfig as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;

    /// A span the collector never got is an error of the run, not a line
    /// in a log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_export_fails_the_shutdown() {
        // A port nothing listens on: the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let result = tokio::task::spawn_blocking(move || {
            let exporter = SpanExporter::builder()
                .with_tonic()
                .with_endpoint(format!("http://127.0.0.1:{port}"))
                .with_timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let provider = SdkTracerProvider::builder()
                .with_span_processor(InlineBatches::new(exporter))
                .build();
            provider.tracer("test").start("lost").end();
            provider.shutdown()
        })
        .await
        .unwrap();
        let error = result.expect_err("the span was not exported");
        assert!(error.to_string().contains("an export failed"), "{error}");
    }
}
