//! placeholder: filled in by the ingest work.
