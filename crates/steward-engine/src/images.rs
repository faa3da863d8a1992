//! Images in untrusted content, shown only when the moderator asks.
//!
//! The webview never loads a remote resource (the app's CSP forbids it). When the
//! moderator clicks "show images", the engine downloads each image itself (no
//! credentials, raster formats only, bounded size, public addresses only unless the
//! config allows private ones: see `steward_client::images`) and inlines it as a `data:` URI into
//! freshly sanitized HTML. Images that cannot be fetched are left out.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use steward_client::images::ImageFetcher;

use crate::sanitize::SanitizedHtml;

/// Largest image inlined, and most images fetched for one item.
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
const MAX_IMAGES: usize = 20;

fn builder(
    filter: impl Fn(&str, &str, &str) -> Option<String> + Send + Sync + 'static,
) -> ammonia::Builder<'static> {
    let mut builder = crate::sanitize::base_builder();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .attribute_filter(move |element, attribute, value| {
            filter(element, attribute, value).map(Into::into)
        });
    builder
}

/// The sanitized HTML with its images fetched by the engine and inlined.
pub async fn inline_images(fetcher: &ImageFetcher, untrusted: &str) -> SanitizedHtml {
    let sources = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&sources);
    builder(move |element, attribute, value| {
        if element == "img" && attribute == "src" {
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(value.to_string());
        }
        Some(value.to_string())
    })
    .clean(untrusted);
    let sources: Vec<String> = sources.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut inlined: HashMap<String, String> = HashMap::new();
    for source in sources.iter().take(MAX_IMAGES) {
        if inlined.contains_key(source) {
            continue;
        }
        match fetcher.fetch(source, MAX_IMAGE_BYTES).await {
            Ok((content_type, bytes)) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
                inlined.insert(
                    source.clone(),
                    format!("data:{content_type};base64,{encoded}"),
                );
            }
            Err(error) => tracing::info!(%error, "an image in reported content was not shown"),
        }
    }
    let inlined = Arc::new(inlined);
    let lookup = Arc::clone(&inlined);
    let html = builder(move |element, attribute, value| {
        if element == "img" && attribute == "src" {
            return lookup.get(value).cloned();
        }
        Some(value.to_string())
    })
    .clean(untrusted)
    .to_string();
    let blocked_images = html.matches("<img").count() as i64 - inlined.len() as i64;
    SanitizedHtml {
        html,
        blocked_images: blocked_images.max(0),
    }
}
