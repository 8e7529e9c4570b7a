//! The bulletin library: ingest (probe, full decode, loudness, true peak, silence, hash), the
//! content-addressed audio store, bulletin metadata and its approval life.
//!
//! - [`bulletin`]: the vocabularies and the bulletin record.
//! - [`ingest`]: measures one file; refuses anything that is not cleanly decodable audio.
//! - [`decode`]: symphonia behind a small streaming decoder (the only file that uses it).
//! - [`analysis`]: loudness, true peak and silence over decoded samples.
//! - [`mp3_frames`]: whether an MP3 without a length header ends part-way through a frame.
//! - [`mp4_edit`]: the MP4 edit list that says how much AAC priming and padding to drop.
//! - [`regular`]: opens an input only when it is a regular file (no FIFO, device, socket).
//! - [`limits`]: how long titles, producers, notes and other operator text may be.
//! - [`edit`]: correcting a bulletin's metadata after it was added (`loa library edit`).
//! - [`sniff`]: recognises non-audio content (text, HTML, images, archives) by its bytes.
//! - [`catalogue`]: the library kept in memory, read again when the store's version moves.
//! - [`audio_store`]: `ab/cdef….ext` files under the data dir, written durably.
//! - [`manifest`]: TOML lists of files with their metadata, for `loa library import`.
//! - [`service`]: the all-or-nothing batch add and the state changes, over a store.
//! - [`tts`]: typed announcement text to a WAV file by the configured command.

pub mod analysis;
pub mod audio_store;
pub mod bulletin;
pub mod catalogue;
pub mod decode;
pub mod edit;
pub mod ingest;
mod ingest_vi;
pub mod limits;
pub mod manifest;
pub mod mp3_frames;
pub mod mp4_edit;
pub mod regular;
pub mod service;
pub mod sniff;
pub mod tts;

pub use bulletin::{
    ApprovalState, AudioFacts, Bulletin, BulletinId, BulletinMeta, Kind, Priority, StateChange,
    Topic,
};
pub use ingest::{analyze, IngestError, IngestOptions};
