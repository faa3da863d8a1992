//! An authenticated session: tokens in memory, the refresh token mirrored to the keychain.
//!
//! Every API call goes through [`Session::authorized`], which attaches the access token,
//! and on a 401 refreshes once and retries. Refreshes are serialized by one lock: a
//! rotated refresh token is single-use, and two concurrent refreshes would present the
//! same token twice, which the server treats as theft and answers by revoking the family.

use std::future::Future;

use steward_client::{Client, ClientError};
use steward_core::AppError;
use tokio::sync::Mutex;

use crate::keychain::KeychainEntry;

pub struct Session {
    pub client: Client,
    pub keychain: KeychainEntry,
    tokens: Mutex<Tokens>,
}

struct Tokens {
    access: Option<String>,
    refresh: String,
    /// Bumped on every refresh, so a caller can tell whether someone else already refreshed.
    generation: u64,
}

/// Why an authorized call failed.
#[derive(Debug)]
pub enum SessionError {
    /// The server (or network) failed the call itself.
    Client(ClientError),
    /// The refresh token was refused: the user must sign in again.
    Expired(AppError),
    /// The rotated refresh token could not be written to the keychain.
    Keychain(AppError),
}

impl SessionError {
    pub fn to_app_error(&self) -> AppError {
        match self {
            SessionError::Client(error) => error.to_app_error(),
            SessionError::Expired(error) | SessionError::Keychain(error) => error.clone(),
        }
    }
}

impl Session {
    pub fn new(
        client: Client,
        keychain: KeychainEntry,
        access: Option<String>,
        refresh: String,
    ) -> Self {
        Self {
            client,
            keychain,
            tokens: Mutex::new(Tokens {
                access,
                refresh,
                generation: 0,
            }),
        }
    }

    /// Runs `call` with a valid access token, refreshing once on a 401.
    pub async fn authorized<T, F, Fut>(&self, call: F) -> Result<T, SessionError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let (access, generation) = {
            let tokens = self.tokens.lock().await;
            (tokens.access.clone(), tokens.generation)
        };
        let access = match access {
            Some(access) => access,
            None => self.refresh(generation).await?,
        };
        match call(access).await {
            Err(error) if error.status() == Some(401) => {
                let access = self.refresh(generation).await?;
                call(access).await.map_err(SessionError::Client)
            }
            other => other.map_err(SessionError::Client),
        }
    }

    /// The access token held now, if any: for a request made outside `authorized` (a
    /// page fetched ahead), whose caller asks again through `authorized` if it fails.
    pub async fn access_token(&self) -> Option<String> {
        self.tokens.lock().await.access.clone()
    }

    /// The refresh token, for logout.
    pub async fn refresh_token(&self) -> String {
        self.tokens.lock().await.refresh.clone()
    }

    async fn refresh(&self, seen_generation: u64) -> Result<String, SessionError> {
        let mut tokens = self.tokens.lock().await;
        if tokens.generation != seen_generation
            && let Some(access) = &tokens.access
        {
            // Another call refreshed while this one waited for the lock.
            return Ok(access.clone());
        }
        let pair = match self.client.refresh(&tokens.refresh).await {
            Ok(pair) => pair,
            Err(error @ ClientError::Api { status: 401, .. }) => {
                tokens.access = None;
                return Err(SessionError::Expired(AppError::new(
                    steward_core::ErrorCode::SessionExpired,
                    format!(
                        "Your session has ended ({error}). Sign in again; actions you took stay queued and are sent after you sign in."
                    ),
                )));
            }
            Err(error) => return Err(SessionError::Client(error)),
        };
        tokens.refresh = pair.refresh_token.clone();
        tokens.access = Some(pair.access_token.clone());
        tokens.generation += 1;
        // The old refresh token is spent: the new one must reach the keychain before we
        // rely on it surviving a restart.
        self.keychain
            .store(&pair.refresh_token)
            .await
            .map_err(SessionError::Keychain)?;
        tracing::info!("session refreshed");
        Ok(pair.access_token)
    }
}
