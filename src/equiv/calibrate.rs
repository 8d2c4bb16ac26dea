//! Builds a [`RatiosFile`](super::RatiosFile) from result files and the catalog.
