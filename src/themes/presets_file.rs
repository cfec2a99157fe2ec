//! Where the presets come from: tweakcn's file, cached by the daemon under its own key, and
//! read from the daemon's answer by the CLI and the MCP server alike.

use super::preset::{Preset, parse};
use crate::protocol::{Request, Response};

/// The cache key of tweakcn's presets file.
pub const PRESETS_KEY: &str = "theme:tweakcn";

/// The request for the presets file, and the presets in the daemon's answer to it.
pub fn request() -> Request {
    Request::Get {
        key: PRESETS_KEY.into(),
    }
}

pub fn from_answer(response: Response) -> Result<Vec<Preset>, String> {
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
