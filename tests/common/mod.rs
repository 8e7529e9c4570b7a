//! Shared helpers of the integration tests: running the real `loa` binary on a temporary
//! data dir, and generating audio fixtures.
#![allow(dead_code)]

pub mod fixtures;
