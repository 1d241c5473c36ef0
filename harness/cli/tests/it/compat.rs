//! Integration tests: compat.
