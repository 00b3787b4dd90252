//! OTLP status codes for every way a request can go wrong, over both transports.

use std::io::Write as _;
use std::time::Duration;

use bytes::{Buf as _, BufMut as _};
use causet_collector::Limits;
use causet_schema::tables;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use tonic::Code;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic_types::StatusExt as _;

use crate::common::{rows, start};

/// google.rpc.Status as OTLP/HTTP returns it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn span(trace_id: Vec<u8>, span_id: Vec<u8>, name: &str) -> Span {
    Span {
        trace_id,
        span_id,
        name: name.into(),
        start_time_unix_nano: 1_795_600_800_000_000_000,
        end_time_unix_nano: 1_795_600_800_000_001_000,
        ..Default::default()
    }
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    crate::common::otlp(spans)
}

fn good_span(n: u8) -> Span {
    span(vec![n; 16], vec![n; 8], &format!("ok-{n}"))
}

/// One valid span and two that cannot be stored.
fn mixed_request() -> ExportTraceServiceRequest {
    request(vec![
        good_span(1),
        span(vec![1; 4], vec![2; 8], "short trace id"),
        span(vec![3; 16], vec![0; 8], "zero span id"),
    ])
}

/// A request of about `bytes` that compresses to almost nothing.
fn compressible_request(bytes: usize) -> ExportTraceServiceRequest {
    let mut s = good_span(9);
    s.attributes.push(KeyValue {
        key: "padding".into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue("a".repeat(bytes))),
        }),
        ..Default::default()
    });
    request(vec![s])
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn post(
    addr: std::net::SocketAddr,
    content_type: &str,
    gzipped: bool,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("http://{addr}/v1/traces"))
        .header("content-type", content_type)
        .body(body);
    if gzipped {
        req = req.header("content-encoding", "gzip");
    }
    req.send().await.unwrap()
}

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

#[tokio::test]
async fn http_undecodable_bodies_are_400_with_a_status_body() {
    let c = start(Limits::default()).await;
    let res = post(
        c.http,
        PROTOBUF,
        false,
        b"\xff\xff\xff not protobuf".to_vec(),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], PROTOBUF);
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, Code::InvalidArgument as i32);
    assert!(status.message.contains("decode"), "{}", status.message);

    let res = post(
        c.http,
        "application/json; charset=utf-8",
        false,
        b"{\"resourceSpans\": 7}".to_vec(),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], JSON);
    let status: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(status["code"], Code::InvalidArgument as i32);
    assert!(
        status["message"].as_str().unwrap().contains("OTLP/JSON"),
        "{status}"
    );

    let res = post(c.http, PROTOBUF, true, b"not gzip".to_vec()).await;
    assert_eq!(res.status(), 400);
    c.stop().await;
}

#[tokio::test]
async fn http_wrong_content_type_is_415() {
    let c = start(Limits::default()).await;
    let res = post(
        c.http,
        "text/plain",
        false,
        request(vec![good_span(1)]).encode_to_vec(),
    )
    .await;
    assert_eq!(res.status(), 415);
    let dir = c.stop().await;
    assert!(rows(dir.path(), tables::SPANS).is_empty());
}

#[tokio::test]
async fn http_oversized_and_gzip_bombs_are_413() {
    let limits = Limits {
        max_request_bytes: 64 << 10,
        ..Limits::default()
    };
    let c = start(limits).await;
    let big = compressible_request(128 << 10).encode_to_vec();
    let res = post(c.http, PROTOBUF, false, big.clone()).await;
    assert_eq!(res.status(), 413);
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, Code::ResourceExhausted as i32);

    // Small on the wire, large once inflated.
    let bomb = gzip(&compressible_request(8 << 20).encode_to_vec());
    assert!(bomb.len() < 64 << 10, "bomb is {} bytes", bomb.len());
    let res = post(c.http, PROTOBUF, true, bomb).await;
    assert_eq!(res.status(), 413);

    // Under the limit, gzip is welcome.
    let res = post(
        c.http,
        PROTOBUF,
        true,
        gzip(&request(vec![good_span(2)]).encode_to_vec()),
    )
    .await;
    assert_eq!(res.status(), 200);
    let dir = c.stop().await;
    assert_eq!(rows(dir.path(), tables::SPANS).len(), 1);
}

/// A gzip body is charged to the in-flight budget as it inflates: small on
/// the wire, over the budget once inflated, it is refused as overload.
#[tokio::test]
async fn http_inflating_past_the_inflight_budget_is_503() {
    let limits = Limits {
        max_request_bytes: 64 << 20,
        max_inflight_bytes: 1 << 20,
    };
    let c = start(limits).await;
    let inflates = gzip(&compressible_request(4 << 20).encode_to_vec());
    assert!(inflates.len() < 64 << 10);
    let res = post(c.http, PROTOBUF, true, inflates).await;
    assert_eq!(res.status(), 503);
    let small = gzip(&compressible_request(256 << 10).encode_to_vec());
    assert_eq!(post(c.http, PROTOBUF, true, small).await.status(), 200);
    c.stop().await;
}

#[tokio::test]
async fn http_partial_success_names_the_rejected_spans() {
    let c = start(Limits::default()).await;
    let res = post(c.http, PROTOBUF, false, mixed_request().encode_to_vec()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], PROTOBUF);
    let body = ExportTraceServiceResponse::decode(res.bytes().await.unwrap()).unwrap();
    let partial = body.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial.error_message.contains("trace_id has 4 bytes"),
        "{}",
        partial.error_message
    );

    let json = serde_json::to_vec(&mixed_request()).unwrap();
    let res = post(c.http, JSON, false, json).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], JSON);
    let body: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    // int64 may be a JSON number or string; either way it says 2.
    let rejected = &body["partialSuccess"]["rejectedSpans"];
    assert!(rejected == 2 || rejected == "2", "{body}");

    let dir = c.stop().await;
    let spans = rows(dir.path(), tables::SPANS);
    // The same valid span twice (once per request): stored as sent; the
    // analyzer deduplicates.
    assert_eq!(spans.len(), 2);
    assert!(spans.iter().all(|s| s["name"] == "ok-1"));
}

#[tokio::test]
async fn http_empty_request_is_success() {
    let c = start(Limits::default()).await;
    let res = post(c.http, PROTOBUF, false, Vec::new()).await;
    assert_eq!(res.status(), 200);
    let body = ExportTraceServiceResponse::decode(res.bytes().await.unwrap()).unwrap();
    assert_eq!(body.partial_success, None);
    let res = post(c.http, JSON, false, b"{}".to_vec()).await;
    assert_eq!(res.status(), 200);
    c.stop().await;
}

#[tokio::test]
async fn http_overload_is_503_with_retry_after() {
    let limits = Limits {
        max_inflight_bytes: 1 << 20,
        ..Limits::default()
    };
    let c = start(limits).await;
    let held = c.ingest.admit(1 << 20).unwrap();
    let res = post(
        c.http,
        PROTOBUF,
        false,
        request(vec![good_span(1)]).encode_to_vec(),
    )
    .await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, Code::Unavailable as i32);
    drop(held);
    let res = post(
        c.http,
        PROTOBUF,
        false,
        request(vec![good_span(1)]).encode_to_vec(),
    )
    .await;
    assert_eq!(res.status(), 200);
    c.stop().await;
}

/// Sends raw bytes as the Export request, to test what the typed client can't send.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// A gRPC client that sends raw bytes ([`RawCodec`]) to any path.
async fn raw_client(addr: std::net::SocketAddr) -> tonic::client::Grpc<tonic::transport::Channel> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    tonic::client::Grpc::new(channel)
}

async fn client(addr: std::net::SocketAddr) -> TraceServiceClient<tonic::transport::Channel> {
    TraceServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
        .max_encoding_message_size(usize::MAX)
}

#[tokio::test]
async fn grpc_undecodable_message_is_invalid_argument() {
    let c = start(Limits::default()).await;
    let mut grpc = raw_client(c.grpc).await;
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    let status = grpc
        .unary(
            tonic::Request::new(b"\xff\xff\xff".to_vec()),
            path,
            RawCodec,
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    c.stop().await;
}

#[tokio::test]
async fn grpc_other_methods_are_unimplemented() {
    let c = start(Limits::default()).await;
    let mut grpc = raw_client(c.grpc).await;
    for path in [
        "/opentelemetry.proto.collector.trace.v1.TraceService/Query",
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    ] {
        grpc.ready().await.unwrap();
        let status = grpc
            .unary(
                tonic::Request::new(Vec::new()),
                http::uri::PathAndQuery::from_static(path),
                RawCodec,
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented, "{path}: {status:?}");
    }
    c.stop().await;
}

#[tokio::test]
async fn grpc_oversized_and_gzip_bombs_are_resource_exhausted_without_retry_info() {
    let limits = Limits {
        max_request_bytes: 64 << 10,
        ..Limits::default()
    };
    let c = start(limits).await;
    let status = client(c.grpc)
        .await
        .export(compressible_request(128 << 10))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_none());

    let status = client(c.grpc)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .export(compressible_request(8 << 20))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    c.stop().await;
}

/// gRPC gzip is inflated on the conversion pool and charged to the
/// in-flight budget as it inflates, as over HTTP: small on the wire, over
/// the budget once inflated, it is refused as overload, to be retried.
#[tokio::test]
async fn grpc_inflating_past_the_inflight_budget_is_unavailable() {
    let limits = Limits {
        max_request_bytes: 64 << 20,
        max_inflight_bytes: 1 << 20,
    };
    let c = start(limits).await;
    let status = client(c.grpc)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .export(compressible_request(4 << 20))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.get_details_retry_info().is_some());
    let response = client(c.grpc)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .export(request(vec![good_span(1)]))
        .await
        .unwrap();
    assert_eq!(response.into_inner().partial_success, None);
    let dir = c.stop().await;
    assert_eq!(rows(dir.path(), tables::SPANS).len(), 1);
}

#[tokio::test]
async fn grpc_partial_success_and_empty_request() {
    let c = start(Limits::default()).await;
    let mut client = client(c.grpc).await;
    let response = client.export(mixed_request()).await.unwrap().into_inner();
    let partial = response.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial.error_message.contains("rejected 2 spans"),
        "{}",
        partial.error_message
    );
    let response = client
        .export(ExportTraceServiceRequest::default())
        .await
        .unwrap();
    assert_eq!(response.into_inner().partial_success, None);
    let dir = c.stop().await;
    assert_eq!(rows(dir.path(), tables::SPANS).len(), 1);
}

#[tokio::test]
async fn grpc_overload_is_unavailable_with_retry_info() {
    let limits = Limits {
        max_inflight_bytes: 1 << 20,
        ..Limits::default()
    };
    let c = start(limits).await;
    let held = c.ingest.admit(1 << 20).unwrap();
    let status = client(c.grpc)
        .await
        .export(request(vec![good_span(1)]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let retry = status.get_details_retry_info().expect("RetryInfo");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(1)));
    drop(held);
    client(c.grpc)
        .await
        .export(request(vec![good_span(1)]))
        .await
        .unwrap();
    c.stop().await;
}
