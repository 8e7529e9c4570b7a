//! The walk over the store behind every export and every check: station by station, pages
//! of rows in (planned start, seq) order, each turned into an [`ExportRow`] and handed to a
//! [`RowSink`], to the [`Summary`] and to the integrity [`Tracker`]. Compliance is
//! evaluated as each ISO week closes. Memory holds a few pages (the one being written and
//! those read ahead, see [`super::pages`]) and one week's airings of one station, whatever
//! the range.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::schedule::IsoWeek;
use crate::store::Store;

use super::integrity::{Integrity, Tracker};
use super::judges::Judges;
use super::pages::{Pages, Span, PAGE};
use super::rows::{export_row, ExportRow, Library};
use super::summary::{evaluate_week, MonthTopics, SlotRow, Summary};
use super::{ReportError, Scope, StationScope};

/// Where exported rows go (a file writer, or the comparison of `verify --export`).
pub trait RowSink {
    /// Whether [`RowSink::record`] wants the stored records (the check does; files do not,
    /// and the walk then moves each record into its row instead of copying it).
    fn wants_records(&self) -> bool {
        false
    }

    /// Sees the stored record behind the next row (a check verifies its hash here).
    fn record(&mut self, _record: &crate::airlog::Record) -> Result<(), ReportError> {
        Ok(())
    }

    /// Takes the next row, in export order.
    fn row(&mut self, row: &ExportRow) -> Result<(), ReportError>;

    /// Whether the integrity block should carry the chain's slot rows (files with rows do;
    /// the printed page has no rows to link).
    fn wants_chain(&self) -> bool {
        true
    }
}

/// What a walk gives besides the rows.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The summary.
    pub summary: Summary,
    /// The integrity block.
    pub integrity: Integrity,
}

/// One station's week being gathered for compliance.
struct WeekAcc {
    week: IsoWeek,
    aired: Vec<(String, DateTime<Utc>)>,
}

/// Walks the scope's rows in export order (station, then planned start, then seq).
/// `judge` asks for the whole summary (the XLSX and the printed report): compliance when a
/// plan judges the week ([`Judges::for_week`]), and the slot rows; the CSV and the check of
/// an export need only the rows and their counts. The store is read ahead of the sink
/// ([`Pages`]).
pub async fn walk(
    store: &Arc<dyn Store>,
    scope: &Scope,
    library: &Library,
    judges: &Judges,
    judge: bool,
    sink: &mut dyn RowSink,
    progress: &dyn crate::progress::Progress,
) -> Result<Walked, ReportError> {
    let heads: BTreeMap<String, (i64, String)> = store
        .chain_heads()
        .await?
        .into_iter()
        .filter(|(s, _, _)| scope.stations.iter().any(|x| &x.code == s))
        .map(|(s, seq, h)| (s, (seq, h)))
        .collect();
    let mut summary = Summary::new(scope, judge && judges.default_plan().is_some());
    let mut tracker = Tracker::default();
    let period = scope.period;
    let first_week = IsoWeek::of(period.from);
    let last_week = IsoWeek::of(period.to);
    let judged_station = |st: &StationScope| judge && judges.knows(&st.code);
    // With a plan, whole ISO weeks are read so the first and last weeks are judged on all
    // their airings; only rows inside the period are exported.
    let spans: Vec<Span> = scope
        .stations
        .iter()
        .map(|st| {
            let (pfrom, pto) = period.bounds(st.timezone);
            let (from, to) = match judged_station(st) {
                true => (
                    first_week.bounds(st.timezone).0.min(pfrom),
                    last_week.bounds(st.timezone).1.max(pto),
                ),
                false => (pfrom, pto),
            };
            Span {
                code: st.code.clone(),
                from,
                to,
            }
        })
        .collect();
    if progress.watching() {
        // The bar's total: the rows the walk will read (one counting query per station).
        let mut total = 0;
        for s in &spans {
            total += store.count_item_rows(&s.code, s.from, s.to).await?;
        }
        progress.more(total);
    }
    let mut pages = Pages::start(Arc::clone(store), spans, sink.wants_records(), PAGE);
    let mut chain_rows = Vec::new();
    let mut signed_heads = BTreeMap::new();
    let mut head_signers = BTreeMap::new();
    for (i, st) in scope.stations.iter().enumerate() {
        let (pfrom, pto) = period.bounds(st.timezone);
        // The station's signed heads, to find the latest one the export reaches.
        let signed = store.signed_heads(&st.code).await?;
        let by_seq: std::collections::HashMap<i64, usize> =
            signed.iter().enumerate().map(|(n, h)| (h.seq, n)).collect();
        let mut reached: Option<usize> = None;
        let mut reach = |seq: i64, hash: &str| {
            if let Some(&n) = by_seq.get(&seq) {
                if signed[n].row_hash == hash && reached.is_none_or(|r| r < n) {
                    reached = Some(n);
                }
            }
        };
        let judged_station = judged_station(st);
        let judged = |w: IsoWeek| {
            let thu = w.monday() + chrono::Duration::days(3);
            thu >= period.from && thu <= period.to
        };
        let mut month_topics = MonthTopics::new();
        let mut acc = WeekAcc {
            week: first_week,
            aired: Vec::new(),
        };
        let mut close_week = |acc: &mut WeekAcc, summary: &mut Summary| {
            let plan = judges.for_week(&st.code, acc.week);
            if let Some((j, s)) = plan.and_then(|j| j.plan.station(&st.code).map(|s| (j, s))) {
                let (results, skipped) =
                    evaluate_week(&j.plan, s, acc.week, library, &acc.aired, &mut month_topics);
                if judged(acc.week) {
                    summary.add_week(i, &results, &skipped);
                    summary.judged_by(j.judged_by());
                }
            }
            acc.aired.clear();
            acc.week = acc.week.next();
        };
        // The station's slot rows (a few hundred a year) go to the summary in time order
        // among its item rows, so that the incident list reads in order.
        let slot_rows = match judge {
            true => store.slot_rows(&st.code, pfrom, pto).await?,
            false => Vec::new(),
        };
        let mut slots = slot_rows
            .iter()
            .map(|r| SlotRow::of(r, st))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .peekable();
        loop {
            let page = pages.next().await?;
            debug_assert_eq!(page.station, i, "pages come in station order");
            for r in page.fetched.records() {
                sink.record(r)?;
            }
            progress.advance(page.fetched.len() as u64);
            for r in page.fetched.rows() {
                let row = export_row(r, st, library)?;
                let planned = row.planned_start.with_timezone(&Utc);
                if judged_station {
                    let local = planned.with_timezone(&st.timezone).date_naive();
                    while acc.week < IsoWeek::of(local) {
                        close_week(&mut acc, &mut summary);
                    }
                    if row.status == crate::airlog::AirStatus::Aired && !row.bulletin_id.is_empty()
                    {
                        acc.aired.push((
                            row.bulletin_id.to_string(),
                            row.slot_start.with_timezone(&Utc),
                        ));
                    }
                }
                if planned >= pfrom && planned < pto {
                    summary.add_slots_before(i, row.planned_start, &mut slots);
                    sink.row(&row)?;
                    summary.add_row(i, &row);
                    tracker.add(row.station_code, row.row_hash);
                    reach(row.seq, row.row_hash);
                }
            }
            if page.last {
                break;
            }
        }
        for slot in slots {
            summary.add_slot(i, &slot);
        }
        if sink.wants_chain() {
            for r in store.chain_slot_rows(&st.code, pfrom, pto).await? {
                reach(r.seq, &r.row_hash);
                chain_rows.push(super::integrity::chain_row_json(&r));
            }
        }
        if let Some(n) = reached {
            // A head a commune machine signed names the node: its key checks it.
            if let Some(node) = store
                .station_nodes(&st.code)
                .await?
                .into_iter()
                .find(|node| {
                    crate::airlog::key::PublicKey::from_hex(&node.public_key)
                        .is_some_and(|k| k.fingerprint() == signed[n].key_fingerprint)
                })
            {
                head_signers.insert(st.code.clone(), node.public_key);
            }
            signed_heads.insert(st.code.clone(), signed[n].clone());
        }
        if judged_station {
            while acc.week <= last_week {
                close_week(&mut acc, &mut summary);
            }
        }
    }
    let codes = scope.stations.iter().map(|s| s.code.clone()).collect();
    let mut integrity = tracker.finish(&period, codes, heads);
    integrity.chain_rows = chain_rows;
    integrity.signed_heads = signed_heads;
    integrity.head_signers = head_signers;
    integrity.timezones = scope
        .stations
        .iter()
        .map(|s| (s.code.clone(), s.timezone.name().to_string()))
        .collect();
    Ok(Walked { summary, integrity })
}
