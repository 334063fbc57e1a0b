//! The HTTP layer: routes, extractors and the mapping of results to responses.

pub(crate) mod error;
