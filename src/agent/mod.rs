//! Commune machines that play their station themselves (`loa agent`, issue 14). The
//! district's `loa serve` serves them; the machine enrols once, then syncs.
//!
//! # Layout
//! - [`auth`]: signed requests (Ed25519 over method, path, time, nonce, body hash), the
//!   time window and the replay guard. Pure.
//! - [`manifest`]: what a node syncs: its station's next days, bulletins, media hashes.
//! - [`range`]: the byte range a media request asks for. Pure.
//! - [`server`]: the district side: enrolment, authentication, a node's manifest and media.
//! - [`node`]: the machine's own files (`agent.toml`, `node.key`, `manifest.json`, `media/`).
//! - [`client`]: the machine's HTTP(S) client (reqwest with rustls).
//! - [`pin`]: trusting the server by its certificate's SHA-256.
//! - [`sync`]: one sync: the manifest, then the missing media, resumed and verified.
//! - [`homeward`]: the airlog upload's decisions (what the node sends, what the server
//!   takes). Pure.
//! - [`inbox`]: the district side of an upload: the held head, the checks, the store.
//! - [`upload`]: the node side: its chain after the server's head, signed, in batches.
//! - [`programme`]: the node's programme: slot playlists and bulletins from the kept
//!   manifest and the verified cache.
//! - [`run`]: `loa agent run`: sync, play from the cache, upload.
//! - [`clock`]: the node's clock against the server's (four timestamps), and when it is too
//!   wrong to play the schedule by. Pure.
//! - [`report`]: the status report a node sends every minute, and the server's alerts
//!   about it. Pure.
//! - [`live`]: the district side of what is live: agent stations' handles, announcements
//!   pushed to the nodes, their reports shown.
//! - [`listen`]: the node side: its announcement stream, reconnecting with jittered backoff.
//! - [`status`]: the node side of the report and the clock exchange.

pub mod auth;
pub mod client;
pub mod clock;
pub mod homeward;
pub mod inbox;
pub mod listen;
pub mod live;
pub mod manifest;
pub mod node;
pub mod pin;
pub mod programme;
pub mod range;
pub mod report;
pub mod run;
pub mod server;
pub mod status;
pub mod sync;
pub mod upload;
