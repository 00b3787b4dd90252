//! OTLP/HTTP: `POST /v1/traces` with protobuf or JSON bodies, optionally gzip'd.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message as _;
use tower::util::MapRequestLayer;

use crate::auth::Token;
use crate::error::Error;
use crate::grpc::RETRY_AFTER;
use crate::ingest::{Encoding, ExportOutcome, Ingest};
use crate::meter::{self, Meter, meter_requests};

/// Path of the traces endpoint.
pub const TRACES_PATH: &str = "/v1/traces";
const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// The body encodings OTLP/HTTP allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

impl Format {
    fn from_headers(headers: &HeaderMap) -> Option<Format> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            PROTOBUF | "application/protobuf" => Some(Format::Protobuf),
            JSON => Some(Format::Json),
            _ => None,
        }
    }

    fn encoding(self) -> Encoding {
        match self {
            Format::Protobuf => Encoding::Protobuf,
            Format::Json => Encoding::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => PROTOBUF,
            Format::Json => JSON,
        }
    }
}

/// google.rpc.Status, the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// The `/v1/traces` router over an [`Ingest`]; with a token, requests
/// without it are refused (401) before their body is read.
pub fn router(ingest: Arc<Ingest>, token: Option<Token>) -> Router {
    let limit = ingest.limits().max_request_bytes;
    let budget = ingest.budget().clone();
    let router = Router::new()
        .route(TRACES_PATH, post(export))
        .layer(DefaultBodyLimit::max(limit))
        // Bodies are charged to the in-flight budget as they arrive (crate::meter).
        .layer(MapRequestLayer::new(move |request| {
            meter_requests(
                &budget,
                request,
                |e| Box::new(e),
                limit as u64,
                axum::body::Body::new,
            )
        }))
        .with_state(Arc::clone(&ingest));
    match token {
        Some(token) => router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let token = token.clone();
                let ingest = Arc::clone(&ingest);
                async move {
                    let authorization = request
                        .headers()
                        .get(header::AUTHORIZATION)
                        .map(|v| v.as_bytes());
                    if token.admits(authorization) {
                        return next.run(request).await;
                    }
                    ingest.count_failure();
                    let format = Format::from_headers(request.headers()).unwrap_or(Format::Json);
                    let mut response = error_response(
                        format,
                        StatusCode::UNAUTHORIZED,
                        tonic::Code::Unauthenticated,
                        "missing or wrong bearer token".into(),
                    );
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                    response
                }
            },
        )),
        None => router,
    }
}

async fn export(
    State(ingest): State<Arc<Ingest>>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let meter = meter::of_request(&extensions, ingest.budget());
    let Some(format) = Format::from_headers(&headers) else {
        ingest.count_failure();
        let got = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "none".into());
        return error_response(
            Format::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            tonic::Code::InvalidArgument,
            format!("content type {got:?} is not {PROTOBUF} or {JSON}"),
        );
    };
    let result = match body {
        Ok(body) => handle(&ingest, meter, &headers, format, body).await,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(Error::TooLarge {
                size: headers
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(0),
                limit: ingest.limits().max_request_bytes as u64,
            })
        }
        Err(rejection) => {
            Err(overload_in(&rejection).unwrap_or_else(|| Error::Decode(rejection.body_text())))
        }
    };
    match result {
        Ok(outcome) => success_response(format, outcome),
        Err(e) => {
            ingest.count_failure();
            error_response(format, e.http_status(), e.grpc_code(), e.to_string())
        }
    }
}

/// The overload that cut a body short, if that is why it could not be read.
fn overload_in(rejection: &BytesRejection) -> Option<Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = cause {
        if let Some(Error::Overloaded(message)) = error.downcast_ref::<Error>() {
            return Some(Error::Overloaded(message.clone()));
        }
        cause = error.source();
    }
    None
}

async fn handle(
    ingest: &Ingest,
    meter: Meter,
    headers: &HeaderMap,
    format: Format,
    body: Bytes,
) -> Result<ExportOutcome, Error> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let gzip = match encoding.as_deref() {
        None | Some("identity") | Some("") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(Error::Decode(format!(
                "content encoding {other:?} is not supported (use gzip or none)"
            )));
        }
    };
    // The wire bytes were charged as they arrived; export_body charges the
    // inflated body as it inflates, and the rows.
    ingest
        .export_body(body, format.encoding(), gzip, meter)
        .await
}

fn success_response(format: Format, outcome: ExportOutcome) -> Response {
    let response = ExportTraceServiceResponse {
        partial_success: outcome.partial_success(),
    };
    let body = match format {
        Format::Protobuf => response.encode_to_vec(),
        Format::Json => serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        body,
    )
        .into_response()
}

fn error_response(
    format: Format,
    status: StatusCode,
    code: tonic::Code,
    message: String,
) -> Response {
    let body = RpcStatus {
        code: code as i32,
        message,
    };
    let bytes = match format {
        Format::Protobuf => body.encode_to_vec(),
        Format::Json => serde_json::to_vec(&body).unwrap_or_default(),
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        bytes,
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(RETRY_AFTER.as_secs()),
        );
    }
    response
}
