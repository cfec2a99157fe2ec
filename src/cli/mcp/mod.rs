//! `shadcache mcp`: a stdio MCP server (the official Rust SDK, `rmcp`) that MCP clients launch
//! and that forwards every tool call to the shared daemon over its socket. Its tools, prompts
//! and resources have the names, arguments and result shapes of the upstream server
//! (`@jpisnice/shadcn-ui-mcp-server` 2.0.0), so replacing it in a client's config is a
//! one-line change; `get_cache_stats` is added. Stdout carries the protocol and nothing else:
//! notices go to stderr.

mod daemon;
mod prompts;
mod resources;
mod run;
mod schemas;
mod server;
mod themes;

pub use run::{McpArgs, main};
