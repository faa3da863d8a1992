//! Images in reported content load only when asked, fetched by the engine, never the webview.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::server::TestServer;
use crate::{TestResult, signed_in, signed_in_with};

/// A 1x1 PNG.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Serves /pixel.png as a PNG, /evil.svg as SVG and 404 otherwise; counts requests.
async fn image_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut request = vec![0u8; 4096];
            let read = stream.read(&mut request).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&request[..read]).to_string();
            let (status, content_type, body): (&str, &str, Vec<u8>) =
                if request.starts_with("GET /pixel.png") {
                    ("200 OK", "image/png", PIXEL.to_vec())
                } else if request.starts_with("GET /evil.svg") {
                    (
                        "200 OK",
                        "image/svg+xml",
                        b"<svg onload=\"alert(1)\"/>".to_vec(),
                    )
                } else {
                    ("404 Not Found", "text/plain", b"no".to_vec())
                };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        }
    });
    (port, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_load_only_on_request_and_only_as_inlined_raster_data() -> TestResult {
    let server = TestServer::start(5);
    let (port, hits) = image_server().await;
    let body = format!(
        "<p>Look</p><img src=\"http://127.0.0.1:{port}/pixel.png\" alt=\"pixel\">\
         <img src=\"http://127.0.0.1:{port}/evil.svg\" alt=\"svg\"><img src=\"http://127.0.0.1:{port}/missing.png\">\
         <img src=x onerror=\"alert(1)\">"
    );
    let item_id = server.create_item("Images", &body);
    // The image server is on loopback: this engine is configured for an intranet product.
    let (engine, _data) = signed_in_with(&server.url, "moderator", |config| {
        config.allow_private_images = true;
    })
    .await?;

    let detail = engine.get_item(item_id).await?;
    assert!(
        !detail.safe_html.contains("127.0.0.1"),
        "{}",
        detail.safe_html
    );
    assert!(!detail.safe_html.contains("onerror"));
    assert_eq!(detail.blocked_images, 4);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing is fetched before the moderator asks"
    );

    let html = engine.load_item_images(item_id).await?;
    assert_eq!(
        html.matches("src=\"data:image/png;base64,").count(),
        1,
        "{html}"
    );
    assert!(
        !html.contains("127.0.0.1"),
        "no remote source survives: {html}"
    );
    assert!(
        !html.contains("svg") || !html.contains("data:image/svg"),
        "SVG is refused: {html}"
    );
    assert!(!html.contains("onerror"), "{html}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "the engine fetched the three http images"
    );
    Ok(())
}

/// By default "Show images" never reaches into the moderator's network: images on
/// loopback, private and link-local addresses (the cloud metadata address among them) are
/// refused before any request, whether named directly or by a name that resolves there
/// (a redirect's target is checked the same way: `steward_client::images`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_images_refuses_private_loopback_and_link_local_addresses() -> TestResult {
    let server = TestServer::start(3);
    let (port, hits) = image_server().await;
    let body = format!(
        "<img src=\"http://127.0.0.1:{port}/pixel.png\"><img src=\"http://localhost:{port}/pixel.png\">\
         <img src=\"http://[::ffff:127.0.0.1]:{port}/pixel.png\"><img src=\"http://0x7f000001:{port}/pixel.png\">\
         <img src=\"http://169.254.169.254/latest/meta-data/x.png\"><img src=\"http://10.255.255.1/x.png\">"
    );
    let item_id = server.create_item("Intranet probes", &body);
    let (engine, _data) = signed_in(&server.url, "moderator").await?;

    let html = engine.load_item_images(item_id).await?;
    assert!(
        !html.contains("data:image"),
        "an inner image was fetched: {html}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached the loopback server"
    );

    Ok(())
}
