//! `--tls-cert` / `--tls-key`: a real OTLP exporter over TLS to the gRPC
//! listener, OTLP/HTTP over TLS, and clients that must not get in (plain
//! text to a TLS port, a client that does not trust the certificate).
//! Certificates: `tests/tls/` (see make-certs.sh there).

use std::path::PathBuf;
use std::sync::Arc;

use causet_collector::listen::TlsFiles;
use causet_collector::{Collector, CollectorConfig, Error};
use causet_schema::tables;
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithTonicConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tonic::transport::{Certificate, ClientTlsConfig};

use crate::common::{Running, export_one_span, one_span, otlp, rows, start_with};

fn certs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls")
}

fn tls_files() -> TlsFiles {
    TlsFiles {
        cert: certs().join("server.pem"),
        key: certs().join("server.key"),
    }
}

async fn start_tls() -> Running {
    start_with(|config| config.tls = Some(tls_files())).await
}

fn request(name: &str) -> ExportTraceServiceRequest {
    otlp(vec![one_span(7, name)])
}

/// A rustls client trusting the test CA (or nothing, with `trust_ca` false).
fn client_config(trust_ca: bool) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    if trust_ca {
        for cert in CertificateDer::pem_file_iter(certs().join("ca.pem")).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// POSTs an OTLP/protobuf body over HTTP/1.1 in TLS and returns the status line.
async fn post_over_tls(
    addr: std::net::SocketAddr,
    trust_ca: bool,
    body: &[u8],
) -> std::io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(client_config(trust_ca));
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await?;
    tls.write_all(body).await?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await?;
    Ok(response.lines().next().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otlp_exporter_exports_over_tls() {
    let c = start_tls().await;
    let ca = std::fs::read(certs().join("ca.pem")).unwrap();
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(format!("https://localhost:{}", c.grpc.port()))
        .with_tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .build()
        .unwrap();
    export_one_span(exporter, "over tls").await;
    let dir = c.stop().await;
    let spans = rows(dir.path(), tables::SPANS);
    assert_eq!(spans.len(), 1, "the exporter's span arrived over TLS");
    assert_eq!(spans[0]["name"], "over tls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_over_tls_is_served_and_untrusted_or_plain_clients_are_not() {
    let c = start_tls().await;
    let body = request("https").encode_to_vec();
    let status = post_over_tls(c.http, true, &body).await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");

    // A client that does not trust the certificate stops at the handshake.
    let refused = post_over_tls(c.http, false, &body).await.unwrap_err();
    assert!(
        refused.to_string().contains("UnknownIssuer"),
        "unexpected error: {refused}"
    );
    // Plain text to a TLS port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .post(format!("http://{}/v1/traces", c.http))
        .header("content-type", "application/x-protobuf")
        .body(body.clone())
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    // Nor does a plain-text gRPC client.
    let grpc = opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient::connect(
        format!("http://{}", c.grpc),
    )
    .await;
    if let Ok(mut client) = grpc {
        client.export(request("plain grpc")).await.unwrap_err();
    }

    // The failed handshakes did not disturb the listener.
    let status = post_over_tls(c.http, true, &body).await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    let dir = c.stop().await;
    let spans = rows(dir.path(), tables::SPANS);
    assert_eq!(spans.len(), 2, "the two trusted exports, nothing else");
    assert!(spans.iter().all(|s| s["name"] == "https"));
}

#[tokio::test]
async fn unusable_certificate_files_fail_at_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("cert.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    for (files, named) in [
        (
            TlsFiles {
                cert: dir.path().join("missing.pem"),
                key: tls_files().key,
            },
            "missing.pem",
        ),
        (
            TlsFiles {
                cert: not_pem,
                key: tls_files().key,
            },
            "cert.pem",
        ),
        (
            TlsFiles {
                cert: tls_files().cert,
                key: certs().join("ca.pem"),
            },
            "ca.pem",
        ),
    ] {
        let mut config = CollectorConfig::new(dir.path().join("data"));
        config.grpc_addr = "127.0.0.1:0".into();
        config.http_addr = "127.0.0.1:0".into();
        config.tls = Some(files);
        match Collector::bind(config).await {
            Err(Error::Tls(message)) => assert!(message.contains(named), "{message}"),
            other => panic!("expected a TLS error naming {named}, got {other:?}"),
        }
    }
}
