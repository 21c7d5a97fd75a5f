//! Placeholder: filled in by the filesystem work.
