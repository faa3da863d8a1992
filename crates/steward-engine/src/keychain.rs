//! The refresh token's only home on disk: the OS keychain, through the keyring crate.
//!
//! keyring's calls block (D-Bus round trips on Linux), so each runs on tokio's blocking
//! pool. When no keychain is usable the error names the cause keyring found (no session
//! bus, no Secret Service provider, a locked collection); there is deliberately no
//! fallback to a file.

use steward_core::{AppError, ErrorCode};

/// Names one credential: the service is the app, the user is profile + account + server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainEntry {
    pub service: String,
    pub user: String,
}

impl KeychainEntry {
    pub fn new(service: &str, profile: &str, username: &str, server_url: &str) -> Self {
        Self {
            service: service.to_string(),
            user: format!("{profile}:{username}@{server_url}"),
        }
    }

    pub async fn store(&self, secret: &str) -> Result<(), AppError> {
        let entry = self.clone();
        let secret = secret.to_string();
        run_blocking(move || entry.open()?.set_password(&secret).map_err(describe)).await
    }

    /// The stored secret, or `None` when there is none.
    pub async fn load(&self) -> Result<Option<String>, AppError> {
        let entry = self.clone();
        run_blocking(move || match entry.open()?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(describe(e)),
        })
        .await
    }

    pub async fn delete(&self) -> Result<(), AppError> {
        let entry = self.clone();
        run_blocking(move || match entry.open()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(describe(e)),
        })
        .await
    }

    fn open(&self) -> Result<keyring::Entry, AppError> {
        keyring::Entry::new(&self.service, &self.user).map_err(|e| match e {
            keyring::Error::NoDefaultStore => unavailable(match keyring::Entry::store_status() {
                Err(cause) => cause.to_string(),
                Ok(()) => "no credential store is set up".to_string(),
            }),
            other => describe(other),
        })
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal(format!("the keychain task failed: {e}")))?
}

fn describe(error: keyring::Error) -> AppError {
    match error {
        keyring::Error::NoStorageAccess(cause) | keyring::Error::PlatformFailure(cause) => {
            unavailable(cause.to_string())
        }
        other => unavailable(other.to_string()),
    }
}

fn unavailable(cause: String) -> AppError {
    AppError::new(
        ErrorCode::KeychainUnavailable,
        format!(
            "The system keychain is not available, so Steward cannot keep you signed in safely \
             (it never stores tokens in a file). Cause: {cause}. On Linux, start and unlock a \
             Secret Service provider such as GNOME Keyring, then try again."
        ),
    )
}
