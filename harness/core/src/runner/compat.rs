//! compat runner (being written).
