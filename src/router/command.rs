//! What the router is asked to do: requests with their keys already validated.

use std::time::Duration;

use bytes::Bytes;

use crate::glob::Glob;
use crate::key::Key;

#[derive(Debug, Clone)]
pub enum Command {
    Ping,
    Get(Key),
    Set {
        key: Key,
        value: Bytes,
        ttl: Option<Duration>,
    },
    Delete(Key),
    Has(Key),
    Keys(Glob),
    MGet(Vec<Key>),
    MSet(Vec<(Key, Bytes, Option<Duration>)>),
    Clear {
        shared: bool,
    },
    Size,
    Metadata(Key),
    RefreshTtl(Key, Option<Duration>),
    Stats,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Ping => "ping",
            Command::Get(_) => "get",
            Command::Set { .. } => "set",
            Command::Delete(_) => "delete",
            Command::Has(_) => "has",
            Command::Keys(_) => "keys",
            Command::MGet(_) => "mget",
            Command::MSet(_) => "mset",
            Command::Clear { .. } => "clear",
            Command::Size => "size",
            Command::Metadata(_) => "metadata",
            Command::RefreshTtl(..) => "refresh_ttl",
            Command::Stats => "stats",
        }
    }
}
