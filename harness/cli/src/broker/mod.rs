//! The NATS JetStream side of the harness (feature `broker`): the AsyncAPI channel map, the
//! judgement of one broker message, and the client plumbing the `publish` and `monitor`
//! commands share. The library core knows nothing of brokers; this module only calls its public
//! API (`Registry::load`, `validate_bytes`).

pub(crate) mod channels;
pub(crate) mod judge;
pub(crate) mod nats;
