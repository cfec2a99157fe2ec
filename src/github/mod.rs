//! L3: GitHub, the source of truth. Built so far: the framework table and the parsers for
//! what upstream serves; the tier actor that fetches comes next (issue 4).

#[cfg(test)]
pub(crate) mod fixtures;
pub mod framework;
pub mod http;
pub mod plan;
pub mod quota;
pub mod registry_file;
pub mod tree;
