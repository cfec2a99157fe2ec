//! The tweakcn theme presets behind upstream's `list_themes`, `get_theme` and `apply_theme`:
//! the presets file read without running it, the colour conversion and CSS upstream writes,
//! and the write into a project. Pure: the file itself comes through the cache
//! (`theme:tweakcn`, fetched by the GitHub tier like any upstream file).

mod apply;
mod color;
mod css;
mod literal;
pub mod preset;
mod presets_file;
mod tools;

pub use css::Tailwind;
#[cfg(any(fuzzing, test))]
pub use literal::Js;
pub use preset::{Preset, parse};
pub use presets_file::{PRESETS_KEY, from_answer, request};
pub use tools::{Apply, apply, find_id, get, list};
