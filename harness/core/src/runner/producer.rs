//! producer runner (being written).
