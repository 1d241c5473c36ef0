//! contracts-gen: placeholder, being written.
