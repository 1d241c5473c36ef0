//! Integration tests: gen_.
