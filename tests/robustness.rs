//! Ingest never panics, whatever the bytes: good files truncated at random points, with
//! random bits flipped, and random bytes behind real container signatures all come back as
//! a measurement or an `IngestError`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::fixtures::{self, WavFormat};
use loa::library::{analyze, IngestOptions};
use proptest::prelude::*;

/// Short seeds of every format, generated once for the whole test binary.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("seed.wav");
        let signal = fixtures::speech_like(22_050, 2, 2_205, 11_025, 2_205);
        fixtures::write_wav(&wav, WavFormat::Pcm16, 22_050, 2, &signal, Some("Tin"));
        let src = fixtures::path_str(&wav);
        let mut files: Vec<PathBuf> = vec![wav.clone()];
        for (name, codec) in [
            ("seed.mp3", "libmp3lame"),
            ("seed.flac", "flac"),
            ("seed.ogg", "libvorbis"),
            ("seed.m4a", "aac"),
        ] {
            let out = dir.path().join(name);
            fixtures::run_ffmpeg(&["-i", src, "-c:a", codec, fixtures::path_str(&out)]);
            files.push(out);
        }
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    })
}

/// Writes `bytes` to a temporary file and analyses it; only a panic fails the test.
fn analyse_bytes(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = &dir.path().join("input.bin");
    std::fs::write(path, bytes).unwrap();
    let _ = analyze(path, &IngestOptions::default());
}

const SIGNATURES: &[&[u8]] = &[
    b"",
    b"ID3\x03\x00\x00\x00\x00\x00\x00",
    b"\xff\xfb\x90\x64",
    b"RIFF\x00\x01\x00\x00WAVEfmt ",
    b"fLaC",
    b"OggS\x00\x02",
    b"\x00\x00\x00\x18ftypM4A ",
    b"\xff\xf1\x50\x80",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_file_truncated_anywhere_never_panics(which in 0usize..5, cut in 0.0f64..1.0) {
        let seed = &seeds()[which];
        analyse_bytes(&seed[..(seed.len() as f64 * cut) as usize]);
    }

    #[test]
    fn a_file_with_flipped_bits_never_panics(
        which in 0usize..5,
        flips in proptest::collection::vec((0.0f64..1.0, 0u8..8), 1..16),
    ) {
        let mut bytes = seeds()[which].clone();
        for (at, bit) in flips {
            let i = ((bytes.len() as f64 * at) as usize).min(bytes.len() - 1);
            bytes[i] ^= 1 << bit;
        }
        analyse_bytes(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_container_signature_never_panic(
        sig in 0usize..SIGNATURES.len(),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut bytes = SIGNATURES[sig].to_vec();
        bytes.extend_from_slice(&tail);
        analyse_bytes(&bytes);
    }
}
