//! Typed HTTP client for the Steward API v1 (see api/openapi.yaml).
//!
//! One [`Client`] per server. Every call takes the access token explicitly: the client
//! holds no session state, so the engine alone decides when to refresh and where tokens
//! live. Every failure is a [`ClientError`], and [`ClientError::to_app_error`] is the one
//! place where HTTP statuses and server error codes become the UI's error codes.

mod error;
pub mod images;
pub mod wire;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

pub use crate::error::ClientError;
use crate::wire::{
    ApiAccount, ApiItem, ApiNote, ApiQueue, ApiReasonTemplate, DecisionRequest, DecisionResponse,
    LoginResponse, Me, MutationBatchAnswer, MutationOperation, MutationResult, Page,
};

/// The most operations one `POST /mutations` takes (the server's limit).
pub const MAX_BATCH: usize = 100;

/// How long one request may take before the server counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
}

impl Client {
    /// A client for the server at `base_url` (for example `http://127.0.0.1:8000`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let base = normalize_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, base })
    }

    /// The server's base URL, normalized (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse, ClientError> {
        let body = serde_json::json!({ "username": username, "password": password });
        intact(
            self.send_json(self.request(Method::POST, "auth/login", None)?.json(&body))
                .await?,
        )
    }

    /// Exchanges a refresh token for a new pair; the old refresh token is used up.
    pub async fn refresh(&self, refresh_token: &str) -> Result<LoginResponse, ClientError> {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        intact(
            self.send_json(
                self.request(Method::POST, "auth/refresh", None)?
                    .json(&body),
            )
            .await?,
        )
    }

    /// Revokes the refresh token's whole family on the server.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), ClientError> {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        self.send_empty(self.request(Method::POST, "auth/logout", None)?.json(&body))
            .await
    }

    pub async fn me(&self, access: &str) -> Result<Me, ClientError> {
        self.send_json(self.request(Method::GET, "me", Some(access))?)
            .await
    }

    pub async fn queues(&self, access: &str) -> Result<Vec<ApiQueue>, ClientError> {
        let page: Page<ApiQueue> = self
            .send_json(self.request(Method::GET, "queues", Some(access))?)
            .await?;
        Ok(page.results)
    }

    pub async fn item(&self, access: &str, item_id: i64) -> Result<ApiItem, ClientError> {
        self.send_json(self.request(Method::GET, &format!("items/{item_id}"), Some(access))?)
            .await
    }

    /// Records a decision. The same `idempotency_key` never applies twice on the server.
    pub async fn decide(
        &self,
        access: &str,
        item_id: i64,
        decision: &DecisionRequest,
        idempotency_key: &str,
    ) -> Result<DecisionResponse, ClientError> {
        let request = self
            .request(
                Method::POST,
                &format!("items/{item_id}/decisions"),
                Some(access),
            )?
            .header("Idempotency-Key", idempotency_key)
            .json(decision);
        self.send_json(request).await
    }

    /// Pushes outbox operations in one `POST /mutations` (at most [`MAX_BATCH`]). The
    /// server runs them in order, each in its own transaction under its own idempotency
    /// key (a replayed key returns the first answer), and answers each as its single
    /// endpoint would: one `Ok(body)` or `Err` per operation, in the operations' order.
    /// The outer error is for the request as a whole (offline, 401, 5xx, a malformed
    /// answer); then nothing is known about any operation.
    pub async fn push_batch(
        &self,
        access: &str,
        operations: &[MutationOperation<'_>],
    ) -> Result<Vec<Result<serde_json::Value, ClientError>>, ClientError> {
        let request = self
            .request(Method::POST, "mutations", Some(access))?
            .json(&serde_json::json!({ "operations": operations }));
        let answer: MutationBatchAnswer = self.send_json(request).await?;
        let mut by_key: std::collections::HashMap<String, MutationResult> = answer
            .results
            .into_iter()
            .map(|result| (result.idempotency_key.clone(), result))
            .collect();
        Ok(operations
            .iter()
            .map(|operation| match by_key.remove(operation.idempotency_key) {
                Some(result) if (200..300).contains(&result.status) => Ok(result.body),
                Some(result) => Err(ClientError::from_error_body(result.status, result.body)),
                None => Err(ClientError::BadResponse {
                    status: 200,
                    detail: "the batch answer has no result for one of its operations".into(),
                }),
            })
            .collect())
    }

    pub async fn reason_templates(
        &self,
        access: &str,
    ) -> Result<Vec<ApiReasonTemplate>, ClientError> {
        let page: Page<ApiReasonTemplate> = self
            .send_json(self.request(Method::GET, "reason-templates", Some(access))?)
            .await?;
        Ok(page.results)
    }

    /// One page of a delta feed (`items`, `accounts`, `jobs`, `audit`) after `cursor`, in
    /// the server's commit order. The audit feed names its cursor parameter `cursor`, the
    /// others `updated_after`; without a cursor the feed starts at its beginning.
    pub async fn feed_page<T: DeserializeOwned>(
        &self,
        access: &str,
        path: &str,
        cursor_param: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<T>, ClientError> {
        let mut request = self
            .request(Method::GET, path, Some(access))?
            .query(&[("limit", limit.to_string())]);
        if let Some(cursor) = cursor {
            request = request.query(&[(cursor_param, cursor)]);
        }
        self.send_json(request).await
    }

    /// Opens the live-update stream (Server-Sent Events of pokes). A server without it
    /// answers 404, and the caller falls back to polling.
    pub async fn open_events(&self, access: &str) -> Result<EventStream, ClientError> {
        let response = self
            .request(Method::GET, "events", Some(access))?
            .header("Accept", "text/event-stream")
            // The stream outlives the usual request timeout; the server ends it after 300 s.
            .timeout(Duration::from_secs(360))
            .send()
            .await
            .map_err(|e| self.network_error(e))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await.map_err(|e| self.network_error(e))?;
            return Err(ClientError::from_error_response(status.as_u16(), &bytes));
        }
        Ok(EventStream {
            response,
            base: self.base_url(),
        })
    }

    /// Accounts whose username, display name or email contains `query`, from the server.
    pub async fn search_accounts(
        &self,
        access: &str,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ApiAccount>, ClientError> {
        let request = self
            .request(Method::GET, "accounts", Some(access))?
            .query(&[("q", query.to_string()), ("limit", limit.to_string())]);
        let page: Page<ApiAccount> = self.send_json(request).await?;
        Ok(page.results)
    }

    pub async fn account(&self, access: &str, account_id: i64) -> Result<ApiAccount, ClientError> {
        self.send_json(self.request(
            Method::GET,
            &format!("accounts/{account_id}"),
            Some(access),
        )?)
        .await
    }

    /// An account's notes, oldest first (up to 500).
    pub async fn account_notes(
        &self,
        access: &str,
        account_id: i64,
    ) -> Result<Vec<ApiNote>, ClientError> {
        let request = self
            .request(
                Method::GET,
                &format!("accounts/{account_id}/notes"),
                Some(access),
            )?
            .query(&[("limit", "500")]);
        let page: Page<ApiNote> = self.send_json(request).await?;
        Ok(page.results)
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
    ) -> Result<RequestBuilder, ClientError> {
        let url = self
            .base
            .join(&format!("api/v1/{path}"))
            .map_err(|e| ClientError::InvalidUrl(format!("{path}: {e}")))?;
        let mut request = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        if let Some(access) = access {
            request = request.bearer_auth(access);
        }
        Ok(request)
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.send(request).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::BadResponse {
            status: status.as_u16(),
            detail: format!("the body is not the expected JSON: {e}"),
        })
    }

    async fn send_empty(&self, request: RequestBuilder) -> Result<(), ClientError> {
        self.send(request).await.map(|_| ())
    }

    async fn send(&self, request: RequestBuilder) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let response = request.send().await.map_err(|e| self.network_error(e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.network_error(e))?
            .to_vec();
        if status.is_success() {
            Ok((status, bytes))
        } else {
            Err(ClientError::from_error_response(status.as_u16(), &bytes)
                .with_retry_after(retry_after))
        }
    }

    fn network_error(&self, error: reqwest::Error) -> ClientError {
        ClientError::Unreachable {
            url: self.base_url(),
            detail: error::describe_network_error(&error),
        }
    }
}

/// An open live-update stream; read it chunk by chunk.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    base: String,
}

impl EventStream {
    /// The next bytes of the stream, or None when the server ended it.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        match self.response.chunk().await {
            Ok(chunk) => Ok(chunk.map(|bytes| bytes.to_vec())),
            Err(error) => Err(ClientError::Unreachable {
                url: self.base.clone(),
                detail: error::describe_network_error(&error),
            }),
        }
    }
}

fn normalize_base_url(input: &str) -> Result<Url, ClientError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ClientError::InvalidUrl("the server URL is empty".into()));
    }
    let mut url = Url::parse(trimmed)
        .map_err(|e| ClientError::InvalidUrl(format!("\"{trimmed}\" is not a URL ({e})")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ClientError::InvalidUrl(format!(
            "\"{trimmed}\" must start with http:// or https://"
        )));
    }
    if url.host_str().is_none() {
        return Err(ClientError::InvalidUrl(format!(
            "\"{trimmed}\" has no host"
        )));
    }
    // Joining "api/v1/..." onto the base must keep any path prefix the server lives under.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A token answer whose tokens do not match their digest is a damaged answer: the caller
/// keeps the tokens it has and retries, as after a lost answer.
fn intact(answer: LoginResponse) -> Result<LoginResponse, ClientError> {
    if answer.is_intact() {
        Ok(answer)
    } else {
        Err(ClientError::BadResponse {
            status: 200,
            detail: "the tokens in the answer do not match their digest (damaged on the way)"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::normalize_base_url;

    #[test]
    fn base_urls_are_normalized() {
        let check = |input: &str, expected: &str| {
            assert_eq!(normalize_base_url(input).unwrap().as_str(), expected);
        };
        check("http://127.0.0.1:8000", "http://127.0.0.1:8000/");
        check(
            " https://mod.example.com/steward ",
            "https://mod.example.com/steward/",
        );
        check("http://h/x/?q=1#f", "http://h/x/");
    }

    #[test]
    fn bad_base_urls_are_refused_with_a_reason() {
        for (input, needle) in [
            ("", "empty"),
            ("ftp://x", "http://"),
            ("not a url", "not a URL"),
        ] {
            let message = normalize_base_url(input).unwrap_err().to_string();
            assert!(message.contains(needle), "{input:?} gave {message:?}");
        }
    }
}
