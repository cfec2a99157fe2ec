//! A data dir on a small tmpfs that fills up. A fresh embedded database takes 20 MiB (a 16 MiB
//! WAL segment and 3.5 MiB of catalog) and L2 keeps 64 MiB free (`src/database/space.rs`), so
//! the tmpfs is 128 MiB and a filler file beside the data dir takes the rest. Writes past the
//! reserve must be answered `Memory` (never `Stored`) while reads still come from L2, and the
//! log and `stats` must name the full disk. With no byte left (the filler takes it all, as
//! another program would), reads are refused too and the daemon serves from memory; restarted
//! like that, L2 does not open and says why. Once the filler is deleted L2 opens again without
//! a restart, and every write ever answered `Stored` reads back from L2 after a restart.
//! Needs root to mount; prints a skip otherwise.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use shadcache::protocol::{Ack, Request, Response, TierName};

use super::{Rng, check_integrity, l2_state, mget_all, seed, wait_stored};
use crate::harness::{TestDaemon, Tmpfs};
use crate::runner::tests;

tests![
    a_full_disk_is_named_loses_no_stored_write_and_l2_recovers_when_space_returns: Root,
];

const CONFIG: &str = r#"
[github]
api_url = "http://127.0.0.1:9"
raw_url = "http://127.0.0.1:9"

[l1]
max_bytes = "256KiB"

[daemon]
log_level = "info"
frame_timeout = "1s"
drain_timeout = "3s"
"#;

const VALUE_SIZE: usize = 48 << 10;
const NO_SPACE: &str = "no space left on device";

fn free_bytes(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a NUL-terminated path and a buffer statvfs fills on success.
    assert_eq!(
        unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) },
        0
    );
    // SAFETY: statvfs returned 0.
    let stat = unsafe { stat.assume_init() };
    // The field types vary by platform.
    #[allow(clippy::unnecessary_cast)]
    let free = stat.f_bavail as u64 * stat.f_frsize as u64;
    free
}

/// Appends to `filler` until `leave` bytes are free on its filesystem, or (`leave` = 0) until
/// the filesystem refuses.
fn fill(filler: &Path, leave: u64) {
    let dir = filler.parent().unwrap();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(filler)
        .unwrap();
    let chunk = vec![0x5au8; 64 << 10];
    loop {
        let free = free_bytes(dir);
        if leave > 0 && free <= leave {
            return;
        }
        let n = if leave > 0 {
            chunk.len().min((free - leave) as usize)
        } else {
            chunk.len()
        };
        if file.write_all(&chunk[..n]).is_err() || file.flush().is_err() {
            return;
        }
    }
}

async fn set(d: &TestDaemon, key: &str, value: &Bytes) -> Response {
    d.request(Request::Set {
        key: key.into(),
        value: value.clone(),
        ttl: None,
    })
    .await
}

/// Restarts the daemon on the same socket and data dir after a SIGTERM, which must exit 0.
/// The log so far is added to `history` (each start begins a new one).
fn restart(d: TestDaemon, data_dir: &Path, history: &mut String) -> TestDaemon {
    let mut d = d;
    d.signal(libc::SIGTERM);
    let status = d.wait_exit(Duration::from_secs(20));
    history.push_str(&d.log_text());
    assert_eq!(status.code(), Some(0), "{history}");
    let mut command = d.daemon_command_with(&d.socket, data_dir);
    let mut d = d.launch(&mut command);
    d.wait_ready();
    d
}

async fn a_full_disk_is_named_loses_no_stored_write_and_l2_recovers_when_space_returns() {
    let parent = tempfile::Builder::new()
        .prefix("shadcache-disk-")
        .tempdir()
        .unwrap();
    let mount_point = parent.path().join("disk");
    // Declared before the daemon, so it is unmounted after the daemon is killed.
    let _tmpfs = Tmpfs::mount(&mount_point, "128m").expect("mount a tmpfs as root");
    let data_dir = mount_point.join("data");
    let filler = mount_point.join("filler");
    let d = TestDaemon::prepare(CONFIG);
    let mut command = d.daemon_command_with(&d.socket, &data_dir);
    let mut d = d.spawn(&mut command);
    wait_stored(&d, "probe:l2", Duration::from_secs(60)).await;
    let fresh_free = free_bytes(&mount_point);
    let mut history = String::new();
    let mut rng = Rng::new(seed("SHADCACHE_CRASHLOOP_SEED"));
    let value = |rng: &mut Rng| Bytes::from(rng.bytes(VALUE_SIZE));

    let mut stored: Vec<(String, Bytes)> = Vec::new();
    for i in 0..20 {
        let (key, v) = (format!("disk:base{i}"), value(&mut rng));
        assert_eq!(set(&d, &key, &v).await, Response::Stored(Ack::Stored));
        stored.push((key, v));
    }

    // 3 MiB above L2's reserve: the writes take it, then L2 refuses them.
    fill(&filler, (64 + 3) << 20);
    let (mut refused, mut in_a_row) = (0, 0);
    for i in 0..400 {
        let (key, v) = (format!("disk:fill{i}"), value(&mut rng));
        match set(&d, &key, &v).await {
            Response::Stored(Ack::Stored) => {
                stored.push((key, v));
                in_a_row = 0;
                continue;
            }
            Response::Stored(Ack::Memory) => {
                refused += 1;
                // Held in L1, and readable from it.
                match d.request(Request::Get { key: key.clone() }).await {
                    Response::Value(Some(f)) => {
                        assert_eq!((f.value, f.info.tier), (v, TierName::Memory))
                    }
                    other => panic!("{key}, answered Memory, then read: {other:?}"),
                }
            }
            other => panic!("{key}: {other:?}"),
        }
        in_a_row += 1;
        if in_a_row == 5 {
            break;
        }
    }
    assert_eq!(in_a_row, 5, "L2 never refused a write");
    d.wait_for_log(NO_SPACE);
    let refusal = d
        .log_text()
        .lines()
        .find(|l| l.contains(NO_SPACE))
        .and_then(|l| l.split_once("error="))
        .map(|(_, why)| why.to_owned())
        .unwrap_or_default();
    let read_only = l2_state(&d).await;
    assert!(read_only.contains(NO_SPACE), "{read_only}");

    // Read-only: every Stored write still reads back, most of them from L2 (L1 is tiny).
    let (mut from_l2, mut from_l1) = (0, 0);
    for (key, v) in &stored {
        match d.request(Request::Get { key: key.clone() }).await {
            Response::Value(Some(f)) => {
                assert_eq!(&f.value, v, "{key} read back another value");
                match f.info.tier {
                    TierName::Database => from_l2 += 1,
                    _ => from_l1 += 1,
                }
            }
            other => panic!("{key}, answered Stored, read while L2 is read-only: {other:?}"),
        }
    }

    // Another program takes the last byte: L2 refuses reads too, the daemon serves from L1.
    fill(&filler, 0);
    assert_eq!(d.request(Request::Ping).await, Response::Pong);
    let v = value(&mut rng);
    assert_eq!(
        set(&d, "disk:full", &v).await,
        Response::Stored(Ack::Memory)
    );
    match d
        .request(Request::Get {
            key: "disk:full".into(),
        })
        .await
    {
        Response::Value(Some(f)) => assert_eq!(f.value, v),
        other => panic!("{other:?}"),
    }
    let full_state = l2_state(&d).await;
    assert!(full_state.contains(NO_SPACE), "{full_state}");

    // Restarted with no byte left: L2 does not open, and says why.
    d = restart(d, &data_dir, &mut history);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut down_state = l2_state(&d).await;
    while !down_state.contains(NO_SPACE) {
        assert!(
            Instant::now() < deadline,
            "L2 state never named the disk: {down_state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        down_state = l2_state(&d).await;
    }
    assert_eq!(
        set(&d, "disk:down", &v).await,
        Response::Stored(Ack::Memory)
    );

    // Space returns: L2 opens again without a restart.
    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    wait_stored(&d, "probe:after", Duration::from_secs(90)).await;
    let recovered = freed.elapsed();
    let v = value(&mut rng);
    assert_eq!(
        set(&d, "disk:after", &v).await,
        Response::Stored(Ack::Stored)
    );
    stored.push(("disk:after".into(), v));

    // Every write answered Stored, from L2 after a restart.
    d = restart(d, &data_dir, &mut history);
    wait_stored(&d, "probe:l2", Duration::from_secs(60)).await;
    let keys: Vec<String> = stored.iter().map(|(k, _)| k.clone()).collect();
    let found = mget_all(&mut d.client().await, &keys).await;
    for ((key, v), found) in stored.iter().zip(found) {
        let f = found.unwrap_or_else(|| {
            panic!(
                "{key} was answered Stored and is lost:\n{history}{}",
                d.log_text()
            )
        });
        assert_eq!((&f.value, f.info.tier), (v, TierName::Database), "{key}");
    }
    let rows = check_integrity(&d, None).await;
    eprintln!(
        "full disk: tmpfs 128 MiB, {:.1} MiB free once the database opened; {} writes of 48 KiB \
         answered Stored ({} of them in the last 3 MiB above the reserve), then {refused} \
         answered Memory; first refusal logged: {refusal}; L2 state then: {read_only:?}; reads \
         of every Stored key meanwhile: {from_l2} from L2, {from_l1} from L1; with 0 bytes free: \
         {full_state:?}; restarted with 0 bytes free: {down_state:?}; space returned: writes \
         Stored again after {recovered:.1?}; after a restart all {} Stored writes read back \
         from L2, {rows} rows read",
        fresh_free as f64 / (1 << 20) as f64,
        stored.len() - 1,
        stored.len() - 21,
        stored.len(),
    );
}
