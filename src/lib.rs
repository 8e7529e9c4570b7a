//! `loa` schedules and plays out administrative-reform (CCHC) bulletins on a district radio
//! station and its commune loudspeaker stations, and keeps the airtime log that proves it.
//!
//! # Layout
//! - [`clock`]: the only place that reads the time ([`clock::SystemClock`], [`clock::SimClock`]).
//! - [`output`]: what a station's output is, as plain values (format, capture, sink name);
//!   a leaf the config and playout share.
//! - [`config`]: `loa.toml` plus `LOA_SECTION__KEY` overrides → a validated [`config::Config`].
//! - [`text`]: NFC and Vietnamese collation.
//! - [`lang`]: the languages loa speaks (Vietnamese first, English) and [`lang::Render`].
//! - [`library`]: ingest, the audio store, bulletins and approval.
//! - [`plan`]: the year's plan file: stations, slots, cadence rules, campaigns, blackouts.
//! - [`schedule`]: the pure weekly builder and the compliance it forecasts.
//! - [`playout`]: the audio path: item sources (decode, resample, gain) and sinks (sound
//!   card, WAV capture, null).
//! - [`airlog`]: the as-run log and its hash chain.
//! - [`report`]: exports for Phòng Nội vụ (CSV, XLSX, printable HTML) with an integrity
//!   block, and their verification against the database.
//! - [`access`]: console accounts, roles and what each may see and do, passwords and
//!   tokens, the hash-chained audit trail of operator actions.
//! - [`store`]: the [`store::Store`] trait with SQLite and PostgreSQL backends.
//! - [`daemon`]: `loa serve`: every station on the wall clock, the control API, clean stops.
//! - [`web`]: the control API and the operator console (axum): bearer tokens, console
//!   sessions with their CSRF guard, every route confined by [`access`].
//! - [`notify`]: systemd notifications (ready, status, stopping, watchdog); no-ops elsewhere.
//! - [`progress`]: how long work reports its progress (a bar on a terminal, else nothing).
//! - [`agent`]: commune machines that play their station themselves: enrolment, signed
//!   requests, the manifest and media they sync (the district side and the node side).
//! - [`cli`]: the command line, one file per command group; `main.rs` only calls [`cli::run`].

pub mod access;
pub mod agent;
pub mod airlog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod lang;
pub mod library;
pub mod notify;
pub mod output;
pub mod plan;
pub mod playout;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod store;
pub mod text;
pub mod web;
