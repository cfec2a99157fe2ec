//! The tweakcn theme presets behind upstream's `list_themes`, `get_theme` and `apply_theme`:
//! the presets file read without running it, the colour conversion and CSS upstream writes,
//! and the write into a project. Pure: the file itself comes through the cache
//! (`theme:tweakcn`, fetched by the GitHub tier like any upstream file).

mod apply;
mod color;
mod css;
pub mod preset;
mod tools;

pub use css::Tailwind;
pub use preset::{Preset, parse};
pub use tools::{Apply, apply, find_id, get, list};

/// The cache key of tweakcn's presets file.
pub const PRESETS_KEY: &str = "theme:tweakcn";
