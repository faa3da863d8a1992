//! Images in reported content, fetched for the moderator who asked to see them.
//!
//! The URLs come from untrusted content, and the request leaves from the moderator's
//! machine, inside their network: a post could point "images" at the intranet, the
//! router's admin page or a service on loopback, and learn from the answers (or change
//! something, through a GET that acts). So by default an image may only come from a
//! public address: a host that resolves only to private, loopback, link-local, shared or
//! otherwise non-public addresses is refused (the resolver drops them, so a name cannot
//! point there either), and so is an IP literal, before the request and after each
//! redirect (at most 5). A product whose images live on its intranet opts in with
//! `ImageFetcher::new(true)`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::{ClientError, error};

const MAX_REDIRECTS: usize = 5;
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4))) // IPv4-compatible
}

/// Resolves names to their public addresses only.
struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Why `url` may not be fetched as an image, if it may not.
fn refusal(url: &Url, allow_private: bool) -> Option<String> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Some(format!("{url} is not an http(s) image"));
    }
    let ip = match url.host() {
        None => return Some(format!("{url} names no host")),
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        // A name: the resolver keeps only its public addresses.
        Some(url::Host::Domain(_)) => return None,
    };
    (!allow_private && !is_public(ip))
        .then(|| format!("{url} is a private, loopback or link-local address"))
}

/// Fetches raster images for the moderator, public addresses only unless allowed.
#[derive(Debug, Clone)]
pub struct ImageFetcher {
    http: reqwest::Client,
    allow_private: bool,
}

impl ImageFetcher {
    pub fn new(allow_private: bool) -> Result<ImageFetcher, ClientError> {
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if let Some(why) = refusal(attempt.url(), allow_private) {
                attempt.error(why)
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(policy)
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(PublicAddressesOnly);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Internal(format!("cannot build the image client: {e}")))?;
        Ok(ImageFetcher {
            http,
            allow_private,
        })
    }

    /// The image at `url` (no credentials are sent): its content type and bytes, if it is
    /// a PNG, JPEG, GIF or WebP of at most `max_bytes`.
    pub async fn fetch(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<(String, Vec<u8>), ClientError> {
        let parsed = Url::parse(url).map_err(|e| ClientError::InvalidUrl(format!("{url}: {e}")))?;
        if let Some(why) = refusal(&parsed, self.allow_private) {
            return Err(ClientError::InvalidUrl(why));
        }
        let unreachable = |e: reqwest::Error| ClientError::Unreachable {
            url: url.to_string(),
            detail: error::describe_network_error(&e),
        };
        let mut response = self.http.get(parsed).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            return Err(ClientError::BadResponse {
                status,
                detail: format!("the image at {url} is not available"),
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            content_type.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp"
        ) {
            return Err(ClientError::BadResponse {
                status,
                detail: format!("{url} is not a raster image ({content_type:?})"),
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > max_bytes {
                return Err(ClientError::BadResponse {
                    status,
                    detail: format!("the image at {url} is larger than {max_bytes} bytes"),
                });
            }
        }
        Ok((content_type, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(
                !is_public(private.parse().unwrap()),
                "{private} counted as public"
            );
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(
                is_public(public.parse().unwrap()),
                "{public} counted as private"
            );
        }
    }

    #[test]
    fn ip_literals_are_checked_before_any_request() {
        let refused = |url: &str| refusal(&Url::parse(url).unwrap(), false);
        assert!(refused("http://127.0.0.1:8000/admin").is_some());
        assert!(refused("http://[::1]/x.png").is_some());
        assert!(refused("http://169.254.169.254/latest/meta-data").is_some());
        assert!(
            refused("http://0x7f000001/x.png").is_some(),
            "a hex IPv4 literal"
        );
        assert!(refused("file:///etc/passwd").is_some());
        assert!(refused("http://93.184.216.34/x.png").is_none());
        assert!(refused("https://images.example.com/x.png").is_none());
        assert!(refusal(&Url::parse("http://127.0.0.1/x.png").unwrap(), true).is_none());
    }
}
