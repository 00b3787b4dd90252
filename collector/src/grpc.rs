//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`.
//!
//! The service is wired by hand instead of through the generated
//! `TraceServiceServer`, whose codec decodes every request into prost
//! structs on the async runtime: here the codec hands over the request's
//! bytes as they arrived (tonic has already removed the gRPC framing), and
//! [`Ingest::export_body`] inflates and walks them on the conversion pool.
//!
//! Gzip is inflated there too, not by tonic on the async runtime: a request
//! that says `grpc-encoding: gzip` loses that header and its messages'
//! compressed flags on the way in (`DeferGzip`), so tonic passes the
//! compressed bytes through, and the handler, told by `Gzipped`, inflates
//! them on the pool, charging the inflated bytes to the request's meter as
//! HTTP does.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf as _, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
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
        let gzip = request
            .extensions()
            .get::<Gzipped>()
            .is_some_and(Gzipped::get);
        let outcome = self
            .ingest
            .export_body(request.into_inner(), Encoding::Protobuf, gzip, meter)
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
    B: Body<Data = Bytes> + Send + Unpin + 'static,
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
        let request = DeferGzip::wrap(request);
        Box::pin(async move {
            // Gzip is still accepted (and advertised): DeferGzip has taken
            // it out of tonic's hands. The limit is on the message as sent;
            // the inflated one is held to it on the pool.
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

/// In a request's extensions when it said `grpc-encoding: gzip`: set once
/// its message arrives with the compressed flag (gRPC lets a sender leave
/// any message uncompressed).
#[derive(Debug, Clone, Default)]
struct Gzipped(Arc<AtomicBool>);

impl Gzipped {
    fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A gRPC request body whose gzip'd messages reach tonic marked as not
/// compressed: the flag byte of each message's 5-byte prefix (flag, then
/// the length, big-endian) is cleared and recorded in [`Gzipped`]. Bodies
/// of requests without `grpc-encoding: gzip` pass through untouched.
struct DeferGzip<B> {
    inner: B,
    /// `None` when the request is not gzip'd.
    gzipped: Option<Gzipped>,
    at: At,
}

impl<B> DeferGzip<B> {
    fn wrap(request: http::Request<B>) -> http::Request<DeferGzip<B>> {
        let (mut parts, inner) = request.into_parts();
        let gzip = parts
            .headers
            .get("grpc-encoding")
            .is_some_and(|v| v.as_bytes() == b"gzip");
        let gzipped = gzip.then(|| {
            parts.headers.remove("grpc-encoding");
            let gzipped = Gzipped::default();
            parts.extensions.insert(gzipped.clone());
            gzipped
        });
        let body = DeferGzip {
            inner,
            gzipped,
            at: At::START,
        };
        http::Request::from_parts(parts, body)
    }
}

/// Where the next byte of the body falls in gRPC's message framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// In a message's prefix: `read` of its 5 bytes seen, the length so far.
    Prefix { read: u8, len: u32 },
    /// In a message, with `left` bytes of it to come.
    Message { left: u32 },
}

impl At {
    const START: At = At::Prefix { read: 0, len: 0 };

    /// Follows the framing through `data`, the body's next bytes, and clears
    /// the compressed flags that fall in it (copying it only if one does),
    /// recording them in `gzipped`.
    fn clear_flags(&mut self, data: Bytes, gzipped: &Gzipped) -> Bytes {
        let mut copy: Option<BytesMut> = None;
        let mut pos = 0;
        while pos < data.len() {
            *self = match *self {
                At::Message { left } => {
                    let n = (left as usize).min(data.len() - pos);
                    pos += n;
                    match left - n as u32 {
                        0 => At::START,
                        left => At::Message { left },
                    }
                }
                At::Prefix { read, len } => {
                    let byte = data[pos];
                    let len = if read == 0 {
                        if byte & 1 != 0 {
                            gzipped.0.store(true, Ordering::Release);
                            copy.get_or_insert_with(|| BytesMut::from(&data[..]))[pos] = byte & !1;
                        }
                        len
                    } else {
                        len << 8 | u32::from(byte)
                    };
                    pos += 1;
                    match (read + 1, len) {
                        (5, 0) => At::START,
                        (5, left) => At::Message { left },
                        (read, len) => At::Prefix { read, len },
                    }
                }
            };
        }
        copy.map_or(data, BytesMut::freeze)
    }
}

impl<B> Body for DeferGzip<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let DeferGzip { inner, gzipped, at } = &mut *self;
        let polled = Pin::new(inner).poll_frame(cx);
        let Some(gzipped) = gzipped else {
            return polled;
        };
        polled.map(|frame| {
            frame.map(|frame| {
                frame.map(|frame| frame.map_data(|data| at.clear_flags(data, gzipped)))
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One gRPC message: the flag, the length, the bytes.
    fn message(flag: u8, bytes: &[u8]) -> Vec<u8> {
        let len = u32::try_from(bytes.len()).unwrap();
        [&[flag][..], &len.to_be_bytes(), bytes].concat()
    }

    /// `body` cut into chunks of `size`, through [`At::clear_flags`].
    fn through(body: &[u8], size: usize) -> (Vec<u8>, bool, At) {
        let gzipped = Gzipped::default();
        let mut at = At::START;
        let out = body
            .chunks(size)
            .flat_map(|chunk| at.clear_flags(Bytes::copy_from_slice(chunk), &gzipped))
            .collect();
        (out, gzipped.get(), at)
    }

    #[test]
    fn compressed_flags_are_cleared_wherever_the_chunks_fall() {
        // Message bytes equal to the flag, an empty message, and a length
        // over 255 must all be left as they are.
        let long = vec![1u8; 300];
        let body = [message(1, b"\x01first"), message(0, b""), message(1, &long)].concat();
        let expected = [message(0, b"\x01first"), message(0, b""), message(0, &long)].concat();
        for size in [1, 2, 3, 5, 6, 7, 64, body.len()] {
            let (out, gzipped, at) = through(&body, size);
            assert_eq!(out, expected, "chunks of {size}");
            assert!(gzipped, "chunks of {size}");
            assert_eq!(at, At::START, "chunks of {size}");
        }
    }

    #[test]
    fn an_uncompressed_message_passes_untouched() {
        let body = message(0, &[1u8; 40]);
        for size in [1, 4, body.len()] {
            let (out, gzipped, at) = through(&body, size);
            assert_eq!(out, body);
            assert!(
                !gzipped,
                "a message sent without compression is not inflated"
            );
            assert_eq!(at, At::START);
        }
        let (_, _, at) = through(&body[..20], 7);
        assert_eq!(at, At::Message { left: 25 });
    }
}
