//! End-to-end tests: the real `shadcache` binary on temporary sockets, run by the suite's own
//! runner (`runner.rs`), which reports a test this machine cannot run as ignored, not passed.

mod runner;

mod ahead;
mod bench;
mod cli;
mod crash;
mod doctor;
mod faults;
mod fixtures;
mod frameworks;
mod harness;
mod l2;
mod l3;
mod lifecycle;
mod mcp;
mod postgres;
mod postgres_tls;
mod protocol;
mod registry;
mod router;
mod security;
mod stalls;
mod stress;
mod systemd;
mod themes;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let tests = [
        ahead::tests(),
        bench::tests(),
        cli::tests(),
        crash::tests(),
        doctor::tests(),
        faults::tests(),
        fixtures::tests(),
        frameworks::tests(),
        l2::tests(),
        l3::tests(),
        lifecycle::tests(),
        mcp::tests(),
        postgres::tests(),
        postgres_tls::tests(),
        protocol::tests(),
        registry::tests(),
        router::tests(),
        security::tests(),
        stalls::tests(),
        stress::tests(),
        systemd::tests(),
        themes::tests(),
    ]
    .into_iter()
    .flatten()
    .collect();
    libtest_mimic::run(&args, runner::trials(tests)).exit_code()
}
