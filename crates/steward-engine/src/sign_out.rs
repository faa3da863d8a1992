//! Signing out, and what it must not throw away silently: actions queued in the cache
//! (decisions, account actions, notes, job actions), conflicts and refusals. The cache is
//! wiped on sign-out, so the user chooses: send first, or discard knowing how many.

use std::time::Duration;
use steward_client::wire::MutationOperation;

use steward_core::{AppError, ErrorCode, SignOutMode, UnsentWork};

use crate::active::Active;
use crate::profile::{self, ProfileRecord};
use crate::{Engine, records};

/// How long signing out waits for the server to take back the user's claims, when it is
/// not sending queued work anyway; claims end by themselves when their lease runs out.
const RELEASE_CLAIMS_WITHIN: Duration = Duration::from_secs(3);

impl Engine {
    /// What signing out of the active profile would throw away.
    pub async fn unsent_work(&self) -> Result<UnsentWork, AppError> {
        Ok(self.require_active().await?.store.unsent_work().await?)
    }

    /// Signs out: gives back the user's claims, revokes the session on the server,
    /// deletes the keychain item and wipes the cache. What happens to actions that live
    /// only in the cache is `mode`'s: refuse (`unsent_work`), send them first and wait,
    /// or discard them.
    pub async fn sign_out(&self, mode: SignOutMode) -> Result<(), AppError> {
        let Some(active) = self.active.lock().await.clone() else {
            return Ok(());
        };
        let me = active.user().username;
        match mode {
            SignOutMode::IfNothingUnsent => {
                let work = active.store.unsent_work().await?;
                if work.total() > 0 {
                    return Err(unsent_error(&work));
                }
                give_back_claims(&active, &me).await?;
            }
            SignOutMode::SendFirst => {
                let claims = active.store.held_claims(&me, &records::now()).await?;
                let left = active.send_everything(&claims).await.map_err(|error| {
                    AppError::new(
                        error.code,
                        format!(
                            "Nothing was sent, so you are still signed in and nothing was discarded: {}",
                            error.message
                        ),
                    )
                })?;
                if left.total() > 0 {
                    return Err(AppError::new(
                        ErrorCode::UnsentWork,
                        format!(
                            "Everything that could be sent was sent, but {} need your attention: review them, or sign out and discard them.",
                            left.describe()
                        ),
                    ));
                }
            }
            SignOutMode::Discard => {
                let work = active.store.unsent_work().await?;
                if work.total() > 0 {
                    tracing::warn!(discarded = %work.describe(), "signing out discards unsent work");
                }
                give_back_claims(&active, &me).await?;
            }
        }
        self.end_session(&active).await
    }

    /// Revokes the session, forgets its keychain item and wipes its cache.
    async fn end_session(&self, active: &Active) -> Result<(), AppError> {
        {
            let mut slot = self.active.lock().await;
            if slot
                .as_ref()
                .is_some_and(|current| std::ptr::eq(current.as_ref(), active))
            {
                *slot = None;
            }
        }
        active.stop().await;
        let refresh = active.session.refresh_token().await;
        if let Err(error) = active.session.client.logout(&refresh).await {
            tracing::warn!(%error, "could not revoke the session on the server");
        }
        active.session.keychain.delete().await?;
        active.store.close().await;
        self.wipe_cache(&active.profile, &active.user().username)?;
        let mut profiles = self.profiles.lock().await;
        if let Some(record) = profiles.get(&active.profile.name).cloned() {
            profiles.upsert(ProfileRecord {
                username: None,
                ..record
            });
        }
        profile::save(&self.config.data_dir, &profiles)?;
        tracing::info!("signed out and wiped the cache");
        Ok(())
    }
}

/// "You have 3 decisions and 1 note that are not on the server yet…"
pub(crate) fn unsent_error(work: &UnsentWork) -> AppError {
    AppError::new(
        ErrorCode::UnsentWork,
        format!(
            "{} {} only on this computer. Send {} first, or discard {} and sign out.",
            capitalized(&work.describe()),
            if work.total() == 1 { "is" } else { "are" },
            if work.total() == 1 { "it" } else { "them" },
            if work.total() == 1 { "it" } else { "them" },
        ),
    )
}

pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Stops the worker first (waiting for a round in progress to end), so no push can take a
/// claim again while the claims are given back; then gives back every claim the cache
/// says the user holds, and every claim whose queued release the worker will now never send.
async fn give_back_claims(active: &Active, me: &str) -> Result<(), AppError> {
    {
        let _quiet = active.sync_lock.lock().await;
        active.stop().await;
    }
    let claims = active
        .store
        .claims_to_give_back(me, &records::now())
        .await?;
    release_claims(active, &claims).await;
    Ok(())
}

/// Gives the user's claims back to the server directly (not through the outbox, which
/// is about to be wiped), within `RELEASE_CLAIMS_WITHIN`; the rest end with their lease.
async fn release_claims(active: &Active, claims: &[i64]) {
    if claims.is_empty() {
        return;
    }
    let client = &active.session.client;
    let keys: Vec<String> = claims
        .iter()
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let no_args = serde_json::json!({});
    let releases: Vec<MutationOperation<'_>> = claims
        .iter()
        .zip(&keys)
        .map(|(&item_id, key)| MutationOperation {
            idempotency_key: key,
            op: "release_item",
            target_id: item_id,
            args: &no_args,
        })
        .collect();
    let released = tokio::time::timeout(RELEASE_CLAIMS_WITHIN, async {
        for batch in releases.chunks(steward_client::MAX_BATCH) {
            let answers = active
                .session
                .authorized(|access| async move { client.push_batch(&access, batch).await })
                .await;
            let failed = match answers {
                Ok(answers) => answers
                    .into_iter()
                    .filter_map(Result::err)
                    .map(|e| e.to_app_error())
                    .collect(),
                Err(error) => vec![error.to_app_error()],
            };
            for error in failed {
                tracing::info!(%error, "a claim was not given back; it ends with its lease");
            }
        }
    })
    .await;
    if released.is_err() {
        tracing::info!(
            "the server did not take the claims back in time; they end with their lease"
        );
    }
}
