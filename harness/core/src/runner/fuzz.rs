//! fuzz runner (being written).
