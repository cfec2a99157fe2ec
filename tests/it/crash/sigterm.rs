//! SIGTERM while write-behind flushes are running. `router::ten_thousand_queued_writes_survive_sigterm`
//! stops a daemon whose queue holds everything and has never flushed, so its drain is the first
//! flush. Here batches are small and due at once, so under a pipelined load a flush is always
//! running, or about to, when the signal comes: the one in flight must land, and everything
//! queued behind it and everything answered `Queued` while the connections drained must follow.

use std::time::Duration;

use bytes::Bytes;
use shadcache::protocol::{Ack, Request, Response, TierName};

use super::{mget_all, wait_stored};
use crate::harness::{TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![sigterm_during_write_behind_flushes_loses_no_queued_write,];

const CLIENTS: usize = 4;
const BATCH: u64 = 20;

/// Sets pipelined 16 deep until the daemon hangs up; returns every write answered `Queued`.
async fn writer(socket: std::path::PathBuf, client_no: usize) -> Vec<(String, Bytes)> {
    let mut client = shadcache::client::Client::connect(&socket, Duration::from_secs(10))
        .await
        .unwrap();
    let mut in_flight = std::collections::VecDeque::new();
    let mut queued = Vec::new();
    for i in 0.. {
        let key = format!("metadata:t{client_no}-{i}");
        let value = Bytes::from(format!("{key} {}", "v".repeat(i % 900)));
        let set = Request::Set {
            key: key.clone(),
            value: value.clone(),
            ttl: None,
        };
        if client.send(&set).await.is_err() {
            break;
        }
        in_flight.push_back((key, value));
        if in_flight.len() < 16 {
            continue;
        }
        match client.recv().await {
            Ok(Response::Stored(Ack::Queued)) => queued.push(in_flight.pop_front().unwrap()),
            Ok(other) => panic!("{other:?}"),
            Err(_) => return queued,
        }
    }
    // The daemon stopped reading: what it had read is still answered, then it closes.
    while let Ok(response) = client.recv().await {
        assert_eq!(response, Response::Stored(Ack::Queued));
        queued.push(in_flight.pop_front().unwrap());
    }
    queued
}

async fn sigterm_during_write_behind_flushes_loses_no_queued_write() {
    let config = TEST_CONFIG.replace(
        "[daemon]",
        &format!(
            "[strategy]\nmetadata = \"write-behind\"\n\n\
             [write_behind]\ncapacity = 10000\nbatch = {BATCH}\nmax_age = \"5ms\"\n\n[daemon]"
        ),
    );
    let mut d =
        TestDaemon::start_with(&config.replace("log_level = \"debug\"", "log_level = \"info\""));
    wait_stored(&d, "probe:l2", Duration::from_secs(60)).await;
    let writers: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(writer(d.socket.clone(), c)))
        .collect();
    // Flushing continuously: many batches done, and more than a batch waiting, so the next
    // one starts the moment the running one lands.
    let busy = d
        .wait_for_stats("continuous flushing", |s| {
            s.write_behind
                .as_ref()
                .is_some_and(|q| q.flushes >= 50 && q.depth > BATCH)
        })
        .await;
    let before = busy.write_behind.unwrap();
    d.signal(libc::SIGTERM);
    let mut queued = Vec::new();
    for w in writers {
        queued.extend(w.await.unwrap());
    }
    let status = d.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{}", d.log_text());
    assert!(
        d.log_text().contains("write-behind queue drained"),
        "{}",
        d.log_text()
    );
    assert!(!d.log_text().contains("these writes are lost"));

    let mut command = d.daemon_command();
    d = d.launch(&mut command);
    d.wait_ready();
    wait_stored(&d, "probe:l2", Duration::from_secs(60)).await;
    let keys: Vec<String> = queued.iter().map(|(k, _)| k.clone()).collect();
    let found = mget_all(&mut d.client().await, &keys).await;
    let mut lost = Vec::new();
    for ((key, value), found) in queued.iter().zip(found) {
        match found {
            Some(f) => {
                assert_eq!(&f.value, value, "{key}");
                assert_eq!(f.info.tier, TierName::Database, "{key}");
            }
            None => lost.push(key.clone()),
        }
    }
    eprintln!(
        "SIGTERM with {} queued and {} flushes done ({} writes flushed): {} writes answered \
         Queued, {} lost",
        before.depth,
        before.flushes,
        before.flushed,
        queued.len(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "{} of {} Queued writes lost: {:?}",
        lost.len(),
        queued.len(),
        &lost[..lost.len().min(20)]
    );
}
