//! The tweakcn theme presets behind upstream's `list_themes`, `get_theme` and `apply_theme`:
//! the presets file read without running it, the colour conversion and CSS upstream writes,
//! and the write into a project. Pure: the file itself comes through the cache
//! (`theme:tweakcn`, fetched by the GitHub tier like any upstream file).

mod apply;
mod color;
mod css;
mod literal;
pub mod preset;
mod tools;

pub use css::Tailwind;
#[cfg(any(fuzzing, test))]
pub use literal::Js;
pub use preset::{Preset, parse};
pub use tools::{Apply, apply, find_id, get, list};

/// The cache key of tweakcn's presets file.
pub const PRESETS_KEY: &str = "theme:tweakcn";

/// The request for the presets file, and the presets in the daemon's answer to it.
pub fn request() -> crate::protocol::Request {
    crate::protocol::Request::Get {
        key: PRESETS_KEY.into(),
    }
}

pub fn from_answer(response: crate::protocol::Response) -> Result<Vec<Preset>, String> {
    use crate::protocol::Response;
    let value = match response {
        Response::Value(Some(found)) => found.value,
        Response::Value(None) => {
            return Err("the theme presets are not cached, and GitHub has none".into());
        }
        Response::Error(e) => return Err(e.message),
        other => return Err(format!("unexpected answer from the daemon: {other:?}")),
    };
    let text = std::str::from_utf8(&value).map_err(|e| format!("the presets file: {e}"))?;
    parse(text).map_err(|e| e.to_string())
}
