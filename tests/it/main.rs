//! End-to-end tests: the real `shadcache` binary on temporary sockets.

mod cli;
mod crash;
mod faults;
mod harness;
mod l2;
mod l3;
mod lifecycle;
mod mcp;
mod postgres;
mod protocol;
mod router;
mod security;
mod stress;
mod systemd;
