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
//!
//! Not yet: the announcement stream, status reports to the server, clock offset.

pub mod auth;
pub mod client;
pub mod homeward;
pub mod inbox;
pub mod manifest;
pub mod node;
pub mod pin;
pub mod programme;
pub mod range;
pub mod run;
pub mod server;
pub mod sync;
pub mod upload;
