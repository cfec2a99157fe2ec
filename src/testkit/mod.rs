//! Support for tests and benchmarks (not used by the daemon itself).

pub mod fixtures;
pub mod load;
pub mod origin;
