//! Corrections of bulletin metadata and their record (migration 0008, `bulletin_edits`):
//! [`EditStore`] is part of every [`super::Store`]; both backends get it from
//! [`impl_edit_store!`]. The edit is applied to the row as it is inside the write
//! transaction, so two operators editing at once both see their change recorded against the
//! value it really replaced.

use async_trait::async_trait;

use crate::library::edit::{EditError, EditRecord, FieldChange, MetaEdit};
use crate::library::{Bulletin, BulletinId, StateChange};

use super::StoreError;

/// What an edit did.
#[derive(Debug, Clone, PartialEq)]
pub struct Edited {
    /// The bulletin as it is now.
    pub bulletin: Bulletin,
    /// The fields that changed (empty when every value given was already the stored one).
    pub changes: Vec<FieldChange>,
}

/// Editing metadata and reading back who changed what.
#[async_trait]
pub trait EditStore: Send + Sync {
    /// Applies `edit` to a bulletin and records each changed field with `change` (who and
    /// when), in one transaction. Refuses (changing nothing) an unknown id or metadata that
    /// the edit would make invalid.
    async fn edit_bulletin(
        &self,
        id: &BulletinId,
        edit: &MetaEdit,
        change: &StateChange,
    ) -> Result<Edited, EditError>;

    /// Every recorded change of a bulletin, oldest first.
    async fn bulletin_edits(&self, id: &BulletinId) -> Result<Vec<EditRecord>, StoreError>;
}

pub(crate) const UPDATE_META: &str = "UPDATE bulletins SET title = $2, producer = $3, \
     valid_from = $4, valid_until = $5, stations = $6, notes = $7 WHERE id = $1";
pub(crate) const INSERT_EDIT: &str = "INSERT INTO bulletin_edits \
     (bulletin_id, field, old_value, new_value, edited_by, edited_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const SELECT_EDITS: &str = "SELECT field, old_value, new_value, edited_by, edited_at \
     FROM bulletin_edits WHERE bulletin_id = $1 ORDER BY seq";

/// One row of `bulletin_edits`, as read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EditRow {
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub edited_by: String,
    pub edited_at: String,
}

impl EditRow {
    /// The record; a row that does not parse is reported, not guessed at.
    pub(crate) fn into_record(self, id: &BulletinId) -> Result<EditRecord, StoreError> {
        let bad = |reason: String| StoreError::Corrupt {
            id: id.to_string(),
            reason,
        };
        let field = crate::library::edit::Field::parse(&self.field)
            .ok_or_else(|| bad(format!("unknown edited field '{}'", self.field)))?;
        let at = chrono::DateTime::parse_from_rfc3339(&self.edited_at)
            .map_err(|e| bad(format!("bad instant '{}': {e}", self.edited_at)))?
            .to_utc();
        Ok(EditRecord {
            change: FieldChange {
                field,
                old: self.old_value,
                new: self.new_value,
            },
            by: self.edited_by,
            at,
        })
    }
}

/// Implements [`EditStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a `sql()`
/// placeholder converter in scope).
macro_rules! impl_edit_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::edits::EditStore for $ty {
            async fn edit_bulletin(
                &self,
                id: &$crate::library::BulletinId,
                edit: &$crate::library::edit::MetaEdit,
                change: &$crate::library::StateChange,
            ) -> Result<$crate::store::edits::Edited, $crate::library::edit::EditError> {
                use $crate::library::edit::EditError;
                use $crate::store::edits::*;
                use $crate::store::queries::SELECT_BY_ID;
                use $crate::store::rows::BulletinRow;
                let db = |e: sqlx::Error| EditError::Store(e.into());
                let mut tx = begin_write(&self.pool).await.map_err(db)?;
                let current = sqlx::query_as::<$db, BulletinRow>(&sql(SELECT_BY_ID))
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?
                    .ok_or(EditError::NotFound(*id))?
                    .into_bulletin()?;
                let (meta, changes) = edit.apply(id, &current.meta)?;
                if changes.is_empty() {
                    return Ok(Edited {
                        bulletin: current,
                        changes,
                    });
                }
                let mut bulletin = current;
                bulletin.meta = meta;
                let row = BulletinRow::from_bulletin(&bulletin);
                sqlx::query::<$db>(&sql(UPDATE_META))
                    .bind(&row.id)
                    .bind(&row.title)
                    .bind(&row.producer)
                    .bind(&row.valid_from)
                    .bind(&row.valid_until)
                    .bind(&row.stations)
                    .bind(&row.notes)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                let at = $crate::store::rows::instant_text(change.at);
                for c in &changes {
                    sqlx::query::<$db>(&sql(INSERT_EDIT))
                        .bind(id.as_str())
                        .bind(c.field.as_str())
                        .bind(&c.old)
                        .bind(&c.new)
                        .bind(&change.by)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                commit_write(tx).await.map_err(db)?;
                Ok(Edited { bulletin, changes })
            }

            async fn bulletin_edits(
                &self,
                id: &$crate::library::BulletinId,
            ) -> Result<Vec<$crate::library::edit::EditRecord>, $crate::store::StoreError> {
                use $crate::store::edits::*;
                sqlx::query_as::<$db, EditRow>(&sql(SELECT_EDITS))
                    .bind(id.as_str())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| r.into_record(id))
                    .collect()
            }
        }
    };
}
pub(crate) use impl_edit_store;
