//! Helpers for end-to-end tests: drive the real binaries.
