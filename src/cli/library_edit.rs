//! `loa library edit ID`: corrects a bulletin's title, producer, validity, target stations
//! or notes, after airing too, and records each changed field with who and when (shown by
//! `loa library show`).

use std::path::Path;

use chrono::NaiveDate;
use clap::Args;

use crate::clock::{Clock, SystemClock};
use crate::library::edit::{EditError, EditRecord, MetaEdit};
use crate::library::{BulletinId, StateChange};

use super::output::print_json;
use super::Failure;

/// Flags of `loa library edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Bulletin id.
    id: String,
    /// New title.
    #[arg(long)]
    title: Option<String>,
    /// New producing unit ("" clears it).
    #[arg(long)]
    producer: Option<String>,
    /// New first day it may air, YYYY-MM-DD ("" clears it).
    #[arg(long)]
    valid_from: Option<String>,
    /// New last day it may air, YYYY-MM-DD ("" clears it).
    #[arg(long)]
    valid_until: Option<String>,
    /// New target station codes, comma-separated ("" or "all": every station).
    #[arg(long)]
    stations: Option<String>,
    /// New notes ("" clears them).
    #[arg(long)]
    notes: Option<String>,
    /// Print JSON: the bulletin and the fields changed.
    #[arg(long)]
    json: bool,
}

/// A date flag of `edit`: empty clears the date.
fn parse_date(flag: &str, s: Option<&str>) -> Result<Option<Option<NaiveDate>>, Failure> {
    let Some(s) = s else { return Ok(None) };
    if s.trim().is_empty() {
        return Ok(Some(None));
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(|d| Some(Some(d)))
        .map_err(|_| {
            Failure::input(format!(
                "{flag} '{s}' is not a date (expected YYYY-MM-DD, or \"\" to clear it)"
            ))
        })
}

/// The edit the flags ask for.
fn edit_of(a: &EditArgs) -> Result<MetaEdit, Failure> {
    let stations = a.stations.as_deref().map(|s| {
        if s.trim() == "all" {
            vec![]
        } else {
            s.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }
    });
    Ok(MetaEdit {
        title: a.title.clone(),
        producer: a.producer.clone(),
        valid_from: parse_date("--valid-from", a.valid_from.as_deref())?,
        valid_until: parse_date("--valid-until", a.valid_until.as_deref())?,
        stations,
        notes: a.notes.clone(),
    })
}

/// Runs `loa library edit`.
pub async fn run(data_dir: &Path, a: EditArgs) -> Result<(), Failure> {
    let id = a.id.parse::<BulletinId>().map_err(Failure::input)?;
    let edit = edit_of(&a)?;
    if edit.is_empty() {
        return Err(Failure::input(EditError::Nothing));
    }
    let (config, store) = super::library::open(data_dir).await?;
    let change = StateChange {
        by: config.operator.clone(),
        at: SystemClock.now(),
    };
    let result = store.edit_bulletin(&id, &edit, &change).await;
    store.close().await;
    let edited = result.map_err(|e| {
        if e.is_input() {
            Failure::input(e)
        } else {
            Failure::work(e)
        }
    })?;
    if a.json {
        let mut v = serde_json::to_value(&edited.bulletin).unwrap_or_default();
        v["changes"] = serde_json::to_value(&edited.changes).unwrap_or_default();
        return print_json(&v);
    }
    if edited.changes.is_empty() {
        println!("{id}  nothing changed (the values given are the ones stored)");
    }
    for c in &edited.changes {
        println!(
            "{id}  {} / {}: {} → {}",
            c.field.label_vi(),
            c.field,
            shown(&c.old),
            shown(&c.new)
        );
    }
    Ok(())
}

/// An empty value shown as a dash.
fn shown(v: &str) -> String {
    if v.is_empty() {
        "-".to_string()
    } else {
        format!("«{v}»")
    }
}

/// Lines for `library show`: one per recorded change, in station-local time.
pub fn history_lines(tz: chrono_tz::Tz, edits: &[EditRecord]) -> Vec<String> {
    edits
        .iter()
        .map(|e| {
            format!(
                "{} by {}: {} {} → {}",
                e.at.with_timezone(&tz).format("%d/%m/%Y %H:%M"),
                e.by,
                e.change.field.label_vi(),
                shown(&e.change.old),
                shown(&e.change.new)
            )
        })
        .collect()
}
