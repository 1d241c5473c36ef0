//! Reports people and machines read beyond the terminal: SARIF for code scanning, the HTML page,
//! and the JSON-pointer-to-line mapping both use to point into files.

pub(crate) mod findings;
pub(crate) mod html;
pub(crate) mod page;
pub(crate) mod run;
pub(crate) mod sarif;
pub(crate) mod spans;
