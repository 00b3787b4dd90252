//! `--auth-token-file`: refused and accepted credentials on both listeners,
//! and a real OTLP exporter presenting the token.

use causet_collector::auth::Token;
use causet_schema::tables;
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithTonicConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message as _;

use crate::common::{export_one_span, one_span, otlp, rows, start_with};

const TOKEN: &str = "correct-horse-battery-staple";

fn request() -> ExportTraceServiceRequest {
    otlp(vec![one_span(4, "authed")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_and_grpc_refuse_missing_or_wrong_tokens() {
    let c = start_with(|config| config.auth_token = Some(Token::new(TOKEN).unwrap())).await;
    let url = format!("http://{}/v1/traces", c.http);
    let client = reqwest::Client::new();
    let post = |auth: Option<&str>| {
        let mut req = client
            .post(&url)
            .header("content-type", "application/x-protobuf")
            .body(request().encode_to_vec());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };
    let res = post(None).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_eq!(post(Some("Bearer nope")).await.unwrap().status(), 401);
    assert_eq!(
        post(Some(&format!("Bearer {TOKEN}")))
            .await
            .unwrap()
            .status(),
        200
    );

    let mut grpc = TraceServiceClient::connect(format!("http://{}", c.grpc))
        .await
        .unwrap();
    let status = grpc.export(request()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let mut authed = tonic::Request::new(request());
    authed
        .metadata_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    grpc.export(authed).await.unwrap();

    let dir = c.stop().await;
    assert_eq!(
        rows(dir.path(), tables::SPANS).len(),
        2,
        "only the two authorised exports"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otlp_exporter_with_the_token_header_gets_in() {
    let c = start_with(|config| config.auth_token = Some(Token::new(TOKEN).unwrap())).await;
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{}", c.grpc))
        .with_metadata(metadata)
        .build()
        .unwrap();
    export_one_span(exporter, "with token").await;
    let dir = c.stop().await;
    let spans = rows(dir.path(), tables::SPANS);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["name"], "with token");
}
