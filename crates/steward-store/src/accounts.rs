//! Accounts of the product and notes about them.

use sqlx::{QueryBuilder, Row};
use steward_core::{AccountAction, AccountCounts, AccountNote, AccountSummary};

use crate::{Store, StoreError};

/// An account as the server last described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub status: String,
    pub roles_json: String,
    pub joined_at: String,
    pub last_seen_at: Option<String>,
    pub suspended_until: Option<String>,
    pub sessions_revoked_at: Option<String>,
    pub counts_json: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRecord {
    pub id: i64,
    pub account_id: i64,
    pub author_username: Option<String>,
    pub body: String,
    pub created_at: String,
}

impl Store {
    /// Stores a page of the accounts delta feed with its cursor, atomically.
    pub async fn apply_accounts_page(
        &self,
        accounts: &[AccountRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for chunk in accounts.chunks(100) {
            upsert_accounts(&mut tx, chunk).await?;
        }
        if let Some(cursor) = cursor {
            crate::set_cursor(&mut tx, "accounts", cursor, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores accounts the server returned outside the feed (a search, an action's answer).
    pub async fn upsert_accounts(&self, accounts: &[AccountRecord]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for chunk in accounts.chunks(100) {
            upsert_accounts(&mut tx, chunk).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Accounts whose username, display name or email contains `query` (any case).
    pub async fn search_accounts(
        &self,
        query: &str,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AccountSummary>, StoreError> {
        let pattern = format!("%{}%", escape_like(query.trim()));
        let found = sqlx::query(
            "SELECT * FROM accounts
             WHERE (username LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR status = ?2)
             ORDER BY (username = ?3 COLLATE NOCASE) DESC, username COLLATE NOCASE, id LIMIT ?4",
        )
        .bind(&pattern)
        .bind(status)
        .bind(query.trim())
        .bind(limit.clamp(1, 500))
        .fetch_all(self.pool())
        .await?;
        found.iter().map(account_from_row).collect()
    }

    pub async fn account(&self, account_id: i64) -> Result<AccountSummary, StoreError> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
            .bind(account_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::AccountNotFound(account_id))?;
        account_from_row(&row)
    }

    /// Replaces what the cache holds of an account's notes with the server's list.
    pub async fn replace_account_notes(
        &self,
        account_id: i64,
        notes: &[NoteRecord],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // Notes still waiting in the outbox have negative ids and stay.
        sqlx::query("DELETE FROM account_notes WHERE account_id = ? AND id > 0")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        for note in notes {
            insert_note(&mut tx, note).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn account_notes(&self, account_id: i64) -> Result<Vec<AccountNote>, StoreError> {
        let found = sqlx::query(
            "SELECT * FROM account_notes WHERE account_id = ? ORDER BY created_at DESC, id DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        Ok(found
            .iter()
            .map(|row| {
                let id: i64 = row.get("id");
                AccountNote {
                    id,
                    author_username: row.get("author_username"),
                    body: row.get("body"),
                    created_at: row.get("created_at"),
                    pending: id < 0,
                }
            })
            .collect())
    }
}

pub(crate) async fn insert_note(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    note: &NoteRecord,
) -> Result<(), StoreError> {
    sqlx::query("INSERT OR REPLACE INTO account_notes (id, account_id, author_username, body, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(note.id)
        .bind(note.account_id)
        .bind(&note.author_username)
        .bind(&note.body)
        .bind(&note.created_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn upsert_accounts(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    accounts: &[AccountRecord],
) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let mut builder = QueryBuilder::new(
        "INSERT INTO accounts (id, username, display_name, email, status, roles_json, joined_at, last_seen_at, suspended_until, sessions_revoked_at, counts_json, updated_at) ",
    );
    builder.push_values(accounts, |mut row, account| {
        row.push_bind(account.id)
            .push_bind(&account.username)
            .push_bind(&account.display_name)
            .push_bind(&account.email)
            .push_bind(&account.status)
            .push_bind(&account.roles_json)
            .push_bind(&account.joined_at)
            .push_bind(&account.last_seen_at)
            .push_bind(&account.suspended_until)
            .push_bind(&account.sessions_revoked_at)
            .push_bind(&account.counts_json)
            .push_bind(&account.updated_at);
    });
    builder.push(
        " ON CONFLICT(id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name,
          email = excluded.email, status = excluded.status, roles_json = excluded.roles_json,
          joined_at = excluded.joined_at, last_seen_at = excluded.last_seen_at,
          suspended_until = excluded.suspended_until, sessions_revoked_at = excluded.sessions_revoked_at,
          counts_json = excluded.counts_json, updated_at = excluded.updated_at
          WHERE excluded.updated_at >= accounts.updated_at",
    );
    builder.build().execute(&mut **tx).await?;
    Ok(())
}

fn account_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AccountSummary, StoreError> {
    let roles: String = row.get("roles_json");
    let counts: String = row.get("counts_json");
    let pending: Option<String> = row.get("pending_action");
    let pending = pending.as_deref().and_then(AccountAction::parse);
    let status: String = row.get("status");
    // A pending suspension or reactivation shows at once.
    let status = match pending {
        Some(AccountAction::Suspend) => "suspended".to_string(),
        Some(AccountAction::Reactivate) => "active".to_string(),
        _ => status,
    };
    Ok(AccountSummary {
        id: row.get("id"),
        username: row.get("username"),
        display_name: row.get("display_name"),
        email: row.get("email"),
        status,
        roles: serde_json::from_str(&roles)
            .map_err(|e| StoreError::Corrupt(format!("account roles: {e}")))?,
        joined_at: row.get("joined_at"),
        last_seen_at: row.get("last_seen_at"),
        suspended_until: row.get("suspended_until"),
        sessions_revoked_at: row.get("sessions_revoked_at"),
        counts: serde_json::from_str::<AccountCounts>(&counts).unwrap_or_default(),
        pending_action: pending,
    })
}

/// Escapes LIKE's wildcards so a search for "50%" means the text "50%".
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
