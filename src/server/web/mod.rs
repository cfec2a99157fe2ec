//! The registry listener: the shadcn registry protocol served back on loopback HTTP, so the
//! `shadcn` CLI and `shadcn mcp` read through the cache (`REGISTRY_URL`, components.json).

mod listen;
pub mod metrics;
mod route;
pub mod secret;
mod serve;
mod start;

pub use route::RegistryService;
pub use start::start;
