//! How far the server is with an upload, for the upload form's bars: the form's script
//! names its upload with a random id (`POST /library/upload?progress=ID`) and polls
//! `GET /library/upload-progress?id=ID` while the files are measured (decoded, metered for
//! loudness and silence, hashed), each file's share of its audio done so far.
//!
//! An upload is known only to the session that sent it (another session, even of the same
//! account, is answered 404), at most [`PER_SESSION`] at a time per session and
//! [`MAX_TRACKED`] in all: past that an upload is simply not followed (the form still
//! works, its bar stays indeterminate). An upload's entry goes once its end has been read,
//! or [`KEEP_FINISHED_SECS`] after it ended when nobody reads it; a request that dies
//! (the connection dropped) ends its entry as it unwinds ([`Following`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::progress::Progress;

/// The most uploads followed at once, all sessions together.
pub const MAX_TRACKED: usize = 64;
/// The most uploads of one session followed at once.
pub const PER_SESSION: usize = 4;
/// How long an ended upload nobody asked about is kept, seconds.
pub const KEEP_FINISHED_SECS: i64 = 300;

/// The form's name for its upload: 16 to 64 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl UploadId {
    /// The id, when `s` is one.
    pub fn parse(s: &str) -> Option<UploadId> {
        let ok = (16..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| UploadId(s.to_string()))
    }

    /// The id asked in a query string (`NAME=ID`), ignoring anything else in it.
    pub fn in_query(query: Option<&str>, name: &str) -> Option<UploadId> {
        query?
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| UploadId::parse(v))
    }
}

/// Where an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The bytes are arriving.
    Receiving,
    /// The files are being measured.
    Analysing,
    /// Every file is measured; the audio and the rows are being stored.
    Storing,
    /// Stored.
    Done,
    /// Refused (or the request ended early); nothing stored.
    Refused,
}

impl Stage {
    /// Whether the upload has ended.
    pub fn ended(self) -> bool {
        matches!(self, Stage::Done | Stage::Refused)
    }
}

/// One file's measurement.
#[derive(Debug, Clone, Default)]
struct FileState {
    /// The name it was uploaded as.
    name: String,
    /// Its steps (audio frames, as the container announces them).
    total: u64,
    /// Steps done.
    done: u64,
    /// Whether its measurement ended.
    ended: bool,
}

/// What is known of one upload.
#[derive(Debug)]
struct State {
    /// Where it is.
    stage: Stage,
    /// Its files, in the order sent.
    files: Vec<FileState>,
    /// Files measured so far.
    measured: usize,
    /// When it ended.
    ended_at: Option<DateTime<Utc>>,
}

/// One upload followed: shared by the request that does the work and the registry that
/// answers the polls.
#[derive(Debug)]
pub struct Tracker(Mutex<State>);

impl Tracker {
    fn new() -> Tracker {
        Tracker(Mutex::new(State {
            stage: Stage::Receiving,
            files: Vec::new(),
            measured: 0,
            ended_at: None,
        }))
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }

    /// The files have arrived: their names; measuring begins.
    pub fn analysing(&self, names: Vec<String>) {
        self.with(|s| {
            s.files = names
                .into_iter()
                .map(|name| FileState {
                    name,
                    ..FileState::default()
                })
                .collect();
            s.stage = Stage::Analysing;
        });
    }

    /// The upload ended at `now`, stored or not.
    pub fn end(&self, stored: bool, now: DateTime<Utc>) {
        self.with(|s| {
            if !s.stage.ended() {
                s.stage = if stored { Stage::Done } else { Stage::Refused };
                s.ended_at = Some(now);
            }
        });
    }

    /// What the form's bars show.
    pub fn view(&self) -> UploadView {
        self.with(|s| UploadView {
            stage: s.stage,
            files: s
                .files
                .iter()
                .map(|f| FileView {
                    name: f.name.clone(),
                    percent: percent(f, s.stage == Stage::Done),
                })
                .collect(),
        })
    }
}

/// A file's share done, 0 to 100; 100 only once its measurement ended (or the upload
/// was stored).
fn percent(f: &FileState, stored: bool) -> u8 {
    if f.ended || stored {
        return 100;
    }
    if f.total == 0 {
        return 0;
    }
    let p = u128::from(f.done.min(f.total)) * 100 / u128::from(f.total);
    u8::try_from(p.min(99)).unwrap_or(99)
}

/// What `GET /library/upload-progress` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadView {
    /// Where the upload is.
    pub stage: Stage,
    /// Each file, in the order sent (empty while the bytes arrive).
    pub files: Vec<FileView>,
}

/// One file's bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileView {
    /// The name it was uploaded as.
    pub name: String,
    /// How much of its measurement is done, 0 to 100.
    pub percent: u8,
}

/// The batch's watcher: hands each file its own ([`Progress::part`]) and counts the files
/// measured.
#[derive(Debug)]
pub struct BatchWatch(pub Arc<Tracker>);

impl Progress for BatchWatch {
    fn watching(&self) -> bool {
        true
    }

    fn advance(&self, steps: u64) {
        self.0.with(|s| {
            s.measured = s
                .measured
                .saturating_add(usize::try_from(steps).unwrap_or(usize::MAX));
            if s.measured >= s.files.len() && s.stage == Stage::Analysing {
                s.stage = Stage::Storing;
            }
        });
    }

    fn part(&self, index: usize) -> Option<Arc<dyn Progress>> {
        Some(Arc::new(FileWatch {
            tracker: self.0.clone(),
            index,
        }))
    }
}

/// One file's watcher: its frames measured against those announced.
#[derive(Debug)]
struct FileWatch {
    tracker: Arc<Tracker>,
    index: usize,
}

impl FileWatch {
    fn file(&self, f: impl FnOnce(&mut FileState)) {
        self.tracker.with(|s| {
            if let Some(file) = s.files.get_mut(self.index) {
                f(file);
            }
        });
    }
}

impl Progress for FileWatch {
    fn watching(&self) -> bool {
        true
    }

    fn more(&self, steps: u64) {
        self.file(|f| f.total = f.total.saturating_add(steps));
    }

    fn advance(&self, steps: u64) {
        self.file(|f| {
            f.done = f.done.saturating_add(steps);
            if f.total > 0 && f.done >= f.total {
                f.ended = true;
            }
        });
    }
}

/// The uploads followed, by session and id.
#[derive(Debug, Default)]
pub struct Uploads(Mutex<HashMap<(String, UploadId), Arc<Tracker>>>);

impl Uploads {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(String, UploadId), Arc<Tracker>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts following upload `id` of `session` (a session's stored hash), unless the
    /// id is taken or the limits are reached; ended uploads kept too long go first.
    pub fn start(&self, session: &str, id: UploadId, now: DateTime<Utc>) -> Option<Arc<Tracker>> {
        let mut map = self.map();
        map.retain(|_, t| {
            t.with(|s| {
                s.ended_at
                    .is_none_or(|at| (now - at).num_seconds() < KEEP_FINISHED_SECS)
            })
        });
        let key = (session.to_string(), id);
        let mine = map.keys().filter(|(s, _)| s == session).count();
        if map.contains_key(&key) || mine >= PER_SESSION || map.len() >= MAX_TRACKED {
            return None;
        }
        let t = Arc::new(Tracker::new());
        map.insert(key, t.clone());
        Some(t)
    }

    /// Upload `id` of `session` as its bars show it; an ended one is forgotten once read.
    pub fn read(&self, session: &str, id: &UploadId) -> Option<UploadView> {
        let mut map = self.map();
        let key = (session.to_string(), id.clone());
        let view = map.get(&key)?.view();
        if view.stage.ended() {
            map.remove(&key);
        }
        Some(view)
    }

    /// How many uploads are followed.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An upload being followed by the request doing it: ends it (as refused) if the request
/// stops before saying how it ended.
pub struct Following {
    /// The upload.
    pub tracker: Arc<Tracker>,
    /// The time, for when it ended.
    pub clock: Arc<dyn Clock>,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.tracker.end(false, self.clock.now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn id(n: u32) -> UploadId {
        UploadId::parse(&format!("{n:016x}")).unwrap()
    }

    #[test]
    fn an_upload_id_is_sixteen_to_sixty_four_plain_characters() {
        assert!(UploadId::parse("0123456789abcdef").is_some());
        assert!(UploadId::parse("0123456789abcde").is_none());
        assert!(UploadId::parse(&"a".repeat(65)).is_none());
        assert!(UploadId::parse("0123456789abcde/").is_none());
        assert_eq!(
            UploadId::in_query(Some("x=1&progress=0123456789abcdef"), "progress"),
            UploadId::parse("0123456789abcdef")
        );
    }

    #[test]
    fn each_file_goes_from_nothing_to_done_as_its_frames_are_measured() {
        let uploads = Uploads::default();
        let t = uploads.start("s", id(1), at(0)).unwrap();
        assert_eq!(uploads.read("s", &id(1)).unwrap().stage, Stage::Receiving);
        t.analysing(vec!["a.wav".into(), "b.wav".into()]);
        let batch = BatchWatch(t.clone());
        let a = batch.part(0).unwrap();
        a.more(1000);
        a.advance(250);
        let v = uploads.read("s", &id(1)).unwrap();
        assert_eq!(v.stage, Stage::Analysing);
        assert_eq!(
            v.files.iter().map(|f| f.percent).collect::<Vec<_>>(),
            [25, 0]
        );
        a.advance(750);
        batch.advance(1);
        let b = batch.part(1).unwrap();
        b.more(10);
        b.advance(10);
        batch.advance(1);
        let v = uploads.read("s", &id(1)).unwrap();
        assert_eq!(v.stage, Stage::Storing);
        assert_eq!(
            v.files.iter().map(|f| f.percent).collect::<Vec<_>>(),
            [100, 100]
        );
        t.end(true, at(1));
        assert_eq!(uploads.read("s", &id(1)).unwrap().stage, Stage::Done);
        assert!(uploads.read("s", &id(1)).is_none(), "forgotten once read");
        assert!(uploads.is_empty());
    }

    #[test]
    fn a_file_shows_its_share_rounded_down_and_a_hundred_only_when_all_is_measured() {
        let t = Arc::new(Tracker::new());
        t.analysing(vec!["a.wav".into()]);
        let w = BatchWatch(t.clone()).part(0).unwrap();
        w.more(3);
        w.advance(2);
        assert_eq!(t.view().files[0].percent, 66);
        w.advance(1);
        assert_eq!(t.view().files[0].percent, 100);
    }

    #[test]
    fn another_session_cannot_read_an_upload_and_the_limits_hold() {
        let uploads = Uploads::default();
        uploads.start("mine", id(1), at(0)).unwrap();
        assert!(uploads.read("theirs", &id(1)).is_none());
        assert!(
            uploads.start("mine", id(1), at(0)).is_none(),
            "an id is used once"
        );
        for n in 2..=PER_SESSION as u32 {
            uploads.start("mine", id(n), at(0)).unwrap();
        }
        assert!(uploads.start("mine", id(99), at(0)).is_none());
        for n in 0..(MAX_TRACKED - PER_SESSION) as u32 {
            uploads.start(&format!("s{n}"), id(n), at(0)).unwrap();
        }
        assert_eq!(uploads.len(), MAX_TRACKED);
        assert!(uploads.start("late", id(1), at(0)).is_none());
    }

    #[test]
    fn an_ended_upload_nobody_reads_is_dropped_after_a_while_and_a_dropped_request_ends_it() {
        let uploads = Uploads::default();
        let t = uploads.start("s", id(1), at(0)).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SimClock::new(at(10)));
        drop(Following {
            tracker: t.clone(),
            clock,
        });
        assert_eq!(t.view().stage, Stage::Refused);
        uploads
            .start("s", id(2), at(10 + KEEP_FINISHED_SECS - 1))
            .unwrap();
        assert_eq!(uploads.len(), 2);
        uploads
            .start("s", id(3), at(10 + KEEP_FINISHED_SECS))
            .unwrap();
        assert_eq!(uploads.len(), 2, "the ended one went");
        assert!(uploads.read("s", &id(1)).is_none());
    }
}
