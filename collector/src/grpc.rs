//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`.
//!
//! The service is wired by hand instead of through the generated
//! `TraceServiceServer`, whose codec decodes every request into prost
//! structs on the async runtime: here the codec hands over the request's
//! bytes as they arrived (tonic has already removed the gRPC framing and
//! any gzip), and [`Ingest::export_body`] walks them on the conversion pool.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf as _, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message as _;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::BoxError;
use crate::auth::Token;
use crate::error::Error;
use crate::ingest::{Encoding, Ingest};
use crate::meter;

/// How long an overloaded collector asks exporters to wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The gRPC service's full name.
pub const SERVICE_NAME: &str = "opentelemetry.proto.collector.trace.v1.TraceService";
/// The path of its one method.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The gRPC trace service over an [`Ingest`].
#[derive(Debug, Clone)]
pub struct GrpcTraceService {
    ingest: Arc<Ingest>,
    token: Option<Token>,
}

impl GrpcTraceService {
    /// The service for tonic's router: gzip accepted and sent, messages
    /// limited to the ingest limit (decompressed).
    pub fn server(ingest: Arc<Ingest>, token: Option<Token>) -> TraceServer {
        TraceServer {
            service: Arc::new(GrpcTraceService { ingest, token }),
        }
    }

    async fn export(
        &self,
        request: Request<Bytes>,
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
        // The wire bytes were charged as they arrived; export_body charges
        // the rows built from them.
        let meter = meter::of_request(request.extensions(), self.ingest.budget());
        let outcome = self
            .ingest
            .export_body(request.into_inner(), Encoding::Protobuf, false, meter)
            .await
            .map_err(|e| {
                self.ingest.count_failure();
                status(&e)
            })?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: outcome.partial_success(),
        }))
    }
}

/// The OTLP status for an error: retryable trouble is UNAVAILABLE with
/// RetryInfo.
pub fn status(error: &Error) -> Status {
    let code = error.grpc_code();
    if error.retryable() {
        Status::with_error_details(
            code,
            error.to_string(),
            ErrorDetails::with_retry_info(Some(RETRY_AFTER)),
        )
    } else {
        Status::new(code, error.to_string())
    }
}

/// [`GrpcTraceService`] as a tower service for tonic's router.
#[derive(Debug, Clone)]
pub struct TraceServer {
    service: Arc<GrpcTraceService>,
}

impl NamedService for TraceServer {
    const NAME: &'static str = SERVICE_NAME;
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

impl<B> tower::Service<http::Request<B>> for TraceServer
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != EXPORT_PATH {
            return Box::pin(async {
                Ok(Status::unimplemented("only TraceService/Export is served here").into_http())
            });
        }
        let limit = self.service.ingest.limits().max_request_bytes;
        let export = Export(Arc::clone(&self.service));
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawRequests)
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(limit);
            Ok(grpc.unary(export, request).await)
        })
    }
}

struct Export(Arc<GrpcTraceService>);

impl UnaryService<Bytes> for Export {
    type Response = ExportTraceServiceResponse;
    type Future = BoxFuture<Result<Response<Self::Response>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let service = Arc::clone(&self.0);
        Box::pin(async move { service.export(request).await })
    }
}

/// Requests as their bytes, responses encoded by prost.
#[derive(Debug, Clone, Copy, Default)]
struct RawRequests;

impl Codec for RawRequests {
    type Encode = ExportTraceServiceResponse;
    type Decode = Bytes;
    type Encoder = RawRequests;
    type Decoder = RawRequests;

    fn encoder(&mut self) -> Self::Encoder {
        RawRequests
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawRequests
    }
}

impl Encoder for RawRequests {
    type Item = ExportTraceServiceResponse;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding the response: {e}")))
    }
}

impl Decoder for RawRequests {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
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
