//! The library kept in memory for the daemon: one copy shared by the console's pages and the
//! stations' players, read again from the store only when the store's library version
//! ([`Store::library_version`]) has moved.
//!
//! A page of **Thư viện** filters and sorts every bulletin; reading 2,000 rows from the store
//! for each request cost 50–70 ms of CPU (docs/benchmarks.md, Console). With the catalogue a
//! request costs one one-row query (the version) and a walk over the kept order.
//!
//! A change made by another process on the same database (`loa library approve` beside
//! `loa serve`) moves the version too: the triggers are in the database, not in this code.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::store::{BulletinFilter, Store, StoreError};
use crate::text::key_vi;

use super::{Bulletin, BulletinId};

/// The library at one version: every bulletin by id, and their order by Vietnamese title
/// (then id).
#[derive(Debug, Default)]
pub struct Snapshot {
    version: i64,
    by_id: Arc<HashMap<BulletinId, Bulletin>>,
    order: Vec<BulletinId>,
}

impl Snapshot {
    /// The snapshot of `bulletins` read at `version`.
    pub fn new(version: i64, bulletins: Vec<Bulletin>) -> Snapshot {
        let mut keyed: Vec<(crate::text::KeyVi, BulletinId)> = bulletins
            .iter()
            .map(|b| (key_vi(&b.meta.title), b.id))
            .collect();
        keyed.sort();
        Snapshot {
            version,
            by_id: Arc::new(bulletins.into_iter().map(|b| (b.id, b)).collect()),
            order: keyed.into_iter().map(|(_, id)| id).collect(),
        }
    }

    /// The store's library version this snapshot was read at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Every bulletin by id (what playout plays from; shared, not copied).
    pub fn by_id(&self) -> &Arc<HashMap<BulletinId, Bulletin>> {
        &self.by_id
    }

    /// One bulletin.
    pub fn get(&self, id: &BulletinId) -> Option<&Bulletin> {
        self.by_id.get(id)
    }

    /// How many bulletins there are.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the library is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every bulletin in Vietnamese order of its title (then by id).
    pub fn in_title_order(&self) -> impl Iterator<Item = &Bulletin> + '_ {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// The bulletins matching `filter`, in Vietnamese order of their titles.
    pub fn filtered<'a>(
        &'a self,
        filter: &'a BulletinFilter,
    ) -> impl Iterator<Item = &'a Bulletin> + 'a {
        self.in_title_order().filter(move |b| {
            filter.kind.is_none_or(|k| b.meta.kind == k)
                && filter.topic.is_none_or(|t| b.meta.topic == t)
                && filter.state.is_none_or(|s| b.state == s)
        })
    }
}

/// The daemon's library in memory, kept current with the store.
pub struct Catalogue {
    store: Arc<dyn Store>,
    current: RwLock<Arc<Snapshot>>,
    reading: tokio::sync::Mutex<()>,
}

impl Catalogue {
    /// A catalogue of `store`'s library; nothing is read until the first
    /// [`snapshot`](Self::snapshot).
    pub fn new(store: Arc<dyn Store>) -> Catalogue {
        Catalogue {
            store,
            current: RwLock::new(Arc::new(Snapshot {
                version: i64::MIN,
                ..Snapshot::default()
            })),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The library as the store has it now: the kept snapshot while the store's version
    /// has not moved, else read again (once, however many callers ask at the same time).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        let version = self.store.library_version().await?;
        if let Some(s) = self.kept_at(version) {
            return Ok(s);
        }
        let _one_reader = self.reading.lock().await;
        // Another caller may have read it while this one waited.
        let version = self.store.library_version().await?;
        if let Some(s) = self.kept_at(version) {
            return Ok(s);
        }
        // The version is read before the rows: a change landing in between leaves the
        // snapshot marked older than what it holds, so the next call reads again; never
        // the other way round.
        let bulletins = self
            .store
            .list_bulletins(&BulletinFilter::default())
            .await?;
        let fresh = Arc::new(Snapshot::new(version, bulletins));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&fresh);
        Ok(fresh)
    }

    fn kept_at(&self, version: i64) -> Option<Arc<Snapshot>> {
        let s = self.current.read().unwrap_or_else(|e| e.into_inner());
        (s.version == version).then(|| Arc::clone(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::{ApprovalState, Kind, Topic};
    use crate::report::rows::tests::bulletin;

    #[test]
    fn a_snapshot_orders_bulletins_by_their_vietnamese_title_then_by_id() {
        let s = Snapshot::new(
            7,
            vec![
                bulletin("000000000003", Kind::News, Topic::Other, "Đường dây nóng"),
                bulletin("000000000001", Kind::News, Topic::Other, "Dịch vụ công"),
                bulletin("000000000002", Kind::Spot, Topic::Other, "Ăn ở"),
                bulletin("000000000004", Kind::News, Topic::Other, "An toàn"),
                bulletin("000000000000", Kind::News, Topic::Other, "Dịch vụ công"),
            ],
        );
        let titles: Vec<String> = s
            .in_title_order()
            .map(|b| format!("{} {}", b.meta.title, &b.id.as_str()[11..]))
            .collect();
        assert_eq!(
            titles,
            [
                "An toàn 4",
                "Ăn ở 2",
                "Dịch vụ công 0",
                "Dịch vụ công 1",
                "Đường dây nóng 3"
            ]
        );
        assert_eq!((s.version(), s.len(), s.is_empty()), (7, 5, false));
        assert_eq!(s.by_id().len(), 5);
    }

    #[test]
    fn a_filter_keeps_the_title_order_and_every_field_narrows() {
        let in_state = |id, kind, title, state| {
            let mut b = bulletin(id, kind, Topic::Documents, title);
            b.state = state;
            b
        };
        let s = Snapshot::new(
            1,
            vec![
                in_state(
                    "00000000000b",
                    Kind::Spot,
                    "Bản tin C",
                    ApprovalState::Draft,
                ),
                in_state(
                    "00000000000a",
                    Kind::Spot,
                    "Bản tin B",
                    ApprovalState::Approved,
                ),
                in_state(
                    "00000000000c",
                    Kind::News,
                    "Bản tin A",
                    ApprovalState::Retired,
                ),
            ],
        );
        let ids = |f: BulletinFilter| -> Vec<String> {
            s.filtered(&f)
                .map(|b| b.id.as_str()[11..].to_string())
                .collect()
        };
        assert_eq!(ids(BulletinFilter::default()), ["c", "a", "b"]);
        let spots = BulletinFilter {
            kind: Some(Kind::Spot),
            ..Default::default()
        };
        assert_eq!(ids(spots.clone()), ["a", "b"]);
        assert_eq!(
            ids(BulletinFilter {
                state: Some(ApprovalState::Approved),
                ..spots
            }),
            ["a"]
        );
        assert!(ids(BulletinFilter {
            topic: Some(Topic::Examples),
            ..Default::default()
        })
        .is_empty());
        assert!(s.get(&"00000000000a".parse().unwrap()).is_some());
    }
}
