//! Integration tests: fuzz.
