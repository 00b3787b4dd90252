//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use tonic::codec::CompressionEncoding;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::auth::Token;
use crate::error::Error;
use crate::ingest::Ingest;
use crate::meter;

/// How long an overloaded collector asks exporters to wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The gRPC trace service over an [`Ingest`].
#[derive(Debug, Clone)]
pub struct GrpcTraceService {
    ingest: Arc<Ingest>,
    token: Option<Token>,
}

impl GrpcTraceService {
    /// The tonic service, gzip accepted, message size limited to the
    /// ingest limit (decompressed).
    pub fn server(
        ingest: Arc<Ingest>,
        token: Option<Token>,
    ) -> TraceServiceServer<GrpcTraceService> {
        let limit = ingest.limits().max_request_bytes;
        TraceServiceServer::new(GrpcTraceService { ingest, token })
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit)
    }
}

#[tonic::async_trait]
impl TraceService for GrpcTraceService {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        if let Some(token) = &self.token {
            let authorization = request
                .metadata()
                .get("authorization")
                .map(|v| v.as_bytes());
            if !token.admits(authorization) {
                self.ingest.count_failure();
                return Err(Status::unauthenticated("missing or wrong bearer token"));
            }
        }
        // The body was charged as it arrived; the decoded message is charged too.
        let meter = meter::of_request(request.extensions(), self.ingest.budget());
        let request = request.into_inner();
        meter
            .charge(request.encoded_len())
            .map_err(|e| self.refuse(e))?;
        let outcome = self
            .ingest
            .export(&request)
            .await
            .map_err(|e| self.refuse(e))?;
        let partial_success = (outcome.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(outcome.rejected).unwrap_or(i64::MAX),
            error_message: outcome.error_message.unwrap_or_default(),
        });
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success,
        }))
    }
}

impl GrpcTraceService {
    fn refuse(&self, error: Error) -> Status {
        self.ingest.count_failure();
        status(&error)
    }
}

/// The OTLP status for an error: retryable trouble is UNAVAILABLE with
/// RetryInfo, never INTERNAL.
pub fn status(error: &Error) -> Status {
    let message = error.to_string();
    match error {
        Error::Decode(_) => Status::invalid_argument(message),
        Error::TooLarge { .. } => Status::resource_exhausted(message),
        Error::Overloaded(_) | Error::Wal(_) | Error::Io { .. } | Error::ShuttingDown => {
            Status::with_error_details(
                Code::Unavailable,
                message,
                ErrorDetails::with_retry_info(Some(RETRY_AFTER)),
            )
        }
        Error::Arrow(_) | Error::Parquet(_) | Error::Tls(_) | Error::Internal(_) => {
            Status::internal(message)
        }
    }
}

/// Rewrites two of tonic's own refusals, made before [`GrpcTraceService`]
/// sees the request, into OTLP's codes: an over-long message is OUT_OF_RANGE
/// in tonic (which OTLP exporters retry) and must be RESOURCE_EXHAUSTED
/// without RetryInfo (not retried); an undecodable message is INTERNAL in
/// tonic and must be INVALID_ARGUMENT.
pub fn fix_refusals<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(|m| m.replace("%20", " "))
        .unwrap_or_default();
    let code = match headers.get("grpc-status").map(|v| v.as_bytes()) {
        Some(b"11") if message.contains("message length too large") => "8",
        Some(b"13") if message.starts_with("failed to decode") => "3",
        _ => return response,
    };
    headers.insert("grpc-status", http::HeaderValue::from_static(code));
    response
}
