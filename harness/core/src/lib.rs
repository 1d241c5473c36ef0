//! contracts-core
