//! The socket protocol against the real daemon: many clients, pipelining, and every kind of
//! bad frame — each answered or cut off without disturbing anyone else.

use std::time::Duration;

use bytes::Bytes;
use shadcache::client::Client;
use shadcache::protocol::codec;
use shadcache::protocol::{
    ErrorCode, Hello, HelloReply, MAGIC, PROTOCOL_VERSION, Request, Response, WireError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::harness::{TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![
    concurrent_clients_each_see_their_own_writes,
    pipelined_requests_are_answered_in_order,
    storage_interface_round_trip,
    garbage_frame_gets_an_error_and_the_connection_stays_usable,
    oversized_frame_is_refused_and_closed,
    truncated_and_slow_frames_do_not_stall_other_clients,
    bad_handshakes_are_refused_clearly,
    connection_cap_refuses_with_a_clear_error,
    an_answer_too_big_for_a_frame_is_an_error_not_a_dropped_connection,
    only_a_test_daemon_lets_its_clock_be_moved,
];

const MAX: usize = 64 << 20;

async fn raw_connect(d: &TestDaemon) -> UnixStream {
    let mut stream = UnixStream::connect(&d.socket).await.unwrap();
    let hello = Hello {
        magic: MAGIC,
        protocol: PROTOCOL_VERSION,
        client: "raw test".into(),
    };
    stream
        .write_all(&codec::encode(&hello, MAX).unwrap())
        .await
        .unwrap();
    let reply: Result<HelloReply, WireError> = read(&mut stream).await.unwrap();
    reply.unwrap();
    stream
}

async fn read<T: serde::de::DeserializeOwned>(stream: &mut UnixStream) -> Option<T> {
    let payload = codec::read_frame(stream, MAX, Duration::from_secs(10))
        .await
        .ok()??;
    Some(codec::decode(&payload).unwrap())
}

async fn ping_ok(d: &TestDaemon) {
    assert_eq!(d.request(Request::Ping).await, Response::Pong);
}

async fn concurrent_clients_each_see_their_own_writes() {
    let d = TestDaemon::start();
    let mut tasks = Vec::new();
    for client_no in 0..16 {
        let mut client = d.client().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                let key = format!("test:c{client_no}:k{i}");
                let value = Bytes::from(format!("{client_no}/{i}"));
                let set = Request::Set {
                    key: key.clone(),
                    value: value.clone(),
                    ttl: None,
                };
                assert!(matches!(
                    client.request(&set).await.unwrap(),
                    Response::Stored(_)
                ));
                match client.request(&Request::Get { key }).await.unwrap() {
                    Response::Value(Some(found)) => assert_eq!(found.value, value),
                    other => panic!("{other:?}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let size = d.request(Request::Size).await;
    assert!(
        matches!(size, Response::Size { entries: 1600, .. }),
        "{size:?}"
    );
}

async fn pipelined_requests_are_answered_in_order() {
    let d = TestDaemon::start();
    let mut client = d.client().await;
    for i in 0..200 {
        client
            .send(&Request::Set {
                key: format!("pipe:k{i}"),
                value: Bytes::from(i.to_string()),
                ttl: None,
            })
            .await
            .unwrap();
        client
            .send(&Request::Get {
                key: format!("pipe:k{i}"),
            })
            .await
            .unwrap();
        if i % 50 == 0 {
            client
                .send(&Request::Get {
                    key: "bad key".into(),
                })
                .await
                .unwrap();
        }
    }
    for i in 0..200 {
        assert!(matches!(client.recv().await.unwrap(), Response::Stored(_)));
        match client.recv().await.unwrap() {
            Response::Value(Some(found)) => assert_eq!(found.value, Bytes::from(i.to_string())),
            other => panic!("answer {i} out of order: {other:?}"),
        }
        if i % 50 == 0 {
            match client.recv().await.unwrap() {
                Response::Error(e) => assert_eq!(e.code, ErrorCode::InvalidKey),
                other => panic!("{other:?}"),
            }
        }
    }
}

async fn storage_interface_round_trip() {
    let d = TestDaemon::start();
    let mut c = d.client().await;
    let entry = |k: &str, v: &'static str| shadcache::protocol::SetEntry {
        key: k.into(),
        value: Bytes::from_static(v.as_bytes()),
        ttl: Some(Duration::from_secs(600)),
    };
    let mset = Request::MSet {
        entries: vec![
            entry("block:react:dashboard-01", "b"),
            entry("metadata:notes", "r"),
        ],
    };
    assert!(matches!(
        c.request(&mset).await.unwrap(),
        Response::Stored(_)
    ));
    let bad_mset = Request::MSet {
        entries: vec![entry("x:ok", "1"), entry("x:not ok", "2")],
    };
    assert!(
        matches!(c.request(&bad_mset).await.unwrap(), Response::Error(e) if e.code == ErrorCode::InvalidKey)
    );
    assert_eq!(
        c.request(&Request::Has { key: "x:ok".into() })
            .await
            .unwrap(),
        Response::Has(false),
        "a refused mset wrote nothing"
    );
    assert_eq!(
        c.request(&Request::Has {
            key: "block:react:dashboard-01".into()
        })
        .await
        .unwrap(),
        Response::Has(true)
    );
    match c
        .request(&Request::Metadata {
            key: "block:react:dashboard-01".into(),
        })
        .await
        .unwrap()
    {
        Response::Metadata(Some(info)) => {
            assert_eq!(info.size, 1);
            assert!(info.ttl_remaining.unwrap() <= Duration::from_secs(600));
        }
        other => panic!("{other:?}"),
    }
    let refresh = Request::RefreshTtl {
        key: "block:react:dashboard-01".into(),
        ttl: Some(Duration::from_secs(7200)),
    };
    assert_eq!(
        c.request(&refresh).await.unwrap(),
        Response::Refreshed(true)
    );
    match c
        .request(&Request::Metadata {
            key: "block:react:dashboard-01".into(),
        })
        .await
        .unwrap()
    {
        Response::Metadata(Some(info)) => {
            assert!(info.ttl_remaining.unwrap() > Duration::from_secs(3600))
        }
        other => panic!("{other:?}"),
    }
    let mget = Request::MGet {
        keys: vec!["metadata:notes".into(), "a:missing".into()],
    };
    match c.request(&mget).await.unwrap() {
        Response::Values(v) => {
            assert_eq!(v[0].as_ref().unwrap().value, Bytes::from_static(b"r"));
            assert!(v[1].is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.request(&Request::Clear { shared: false }).await.unwrap(),
        Response::Cleared(2)
    );
    assert_eq!(
        c.request(&Request::Size).await.unwrap(),
        Response::Size {
            entries: 0,
            bytes: 0
        }
    );
}

async fn garbage_frame_gets_an_error_and_the_connection_stays_usable() {
    let d = TestDaemon::start();
    let mut stream = raw_connect(&d).await;
    let garbage = [0u8, 0, 0, 5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb];
    stream.write_all(&garbage).await.unwrap();
    match read::<Response>(&mut stream).await {
        Some(Response::Error(e)) => assert_eq!(e.code, ErrorCode::BadFrame),
        other => panic!("{other:?}"),
    }
    stream
        .write_all(&codec::encode(&Request::Ping, MAX).unwrap())
        .await
        .unwrap();
    assert_eq!(read::<Response>(&mut stream).await, Some(Response::Pong));
}

async fn oversized_frame_is_refused_and_closed() {
    let d = TestDaemon::start();
    let mut stream = raw_connect(&d).await;
    stream.write_all(&(1u32 << 30).to_be_bytes()).await.unwrap();
    match read::<Response>(&mut stream).await {
        Some(Response::Error(e)) => assert_eq!(e.code, ErrorCode::FrameTooLarge),
        other => panic!("{other:?}"),
    }
    assert!(
        read::<Response>(&mut stream).await.is_none(),
        "connection left open"
    );
    ping_ok(&d).await;
}

async fn truncated_and_slow_frames_do_not_stall_other_clients() {
    let d = TestDaemon::start_with(
        &crate::harness::TEST_CONFIG.replace("frame_timeout = \"1s\"", "frame_timeout = \"3s\""),
    );
    // A frame that promises 100 bytes and delivers 3, then silence.
    let mut slow = raw_connect(&d).await;
    slow.write_all(&[0, 0, 0, 100, 1, 2, 3]).await.unwrap();
    // A frame cut off by the client closing.
    let mut truncated = raw_connect(&d).await;
    truncated.write_all(&[0, 0, 0, 50, 9]).await.unwrap();
    drop(truncated);
    // Meanwhile, another client is served normally: all its answers come while the slow
    // frame still has time left, so nothing waited for that frame's timeout.
    let mut other = d.client().await;
    for _ in 0..50 {
        assert_eq!(other.request(&Request::Ping).await.unwrap(), Response::Pong);
    }
    let mut early = [0u8; 1];
    match slow.try_read(&mut early) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the slow frame timed out before the other client was served: {other:?}"),
    }
    // The slow one is told (after frame_timeout) and cut off.
    match read::<Response>(&mut slow).await {
        Some(Response::Error(e)) => assert_eq!(e.code, ErrorCode::Timeout),
        other => panic!("{other:?}"),
    }
    let mut rest = Vec::new();
    assert_eq!(slow.read_to_end(&mut rest).await.unwrap(), 0);
    ping_ok(&d).await;
}

async fn bad_handshakes_are_refused_clearly() {
    let d = TestDaemon::start();
    let mismatch = Hello {
        magic: MAGIC,
        protocol: PROTOCOL_VERSION + 1,
        client: "future client".into(),
    };
    let mut stream = UnixStream::connect(&d.socket).await.unwrap();
    stream
        .write_all(&codec::encode(&mismatch, MAX).unwrap())
        .await
        .unwrap();
    let reply: Result<HelloReply, WireError> = read(&mut stream).await.unwrap();
    let e = reply.unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionMismatch);
    assert!(
        e.message.contains("protocol version mismatch"),
        "{}",
        e.message
    );

    let mut stream = UnixStream::connect(&d.socket).await.unwrap();
    stream.write_all(b"\x00\x00\x00\x04GET ").await.unwrap();
    let reply: Result<HelloReply, WireError> = read(&mut stream).await.unwrap();
    assert_eq!(reply.unwrap_err().code, ErrorCode::BadFrame);
    ping_ok(&d).await;
}

async fn connection_cap_refuses_with_a_clear_error() {
    let config = format!("{}max_connections = 3\n", crate::harness::TEST_CONFIG);
    let d = TestDaemon::start_with(&config);
    let held = [d.client().await, d.client().await, d.client().await];
    let err = Client::connect(&d.socket, Duration::from_secs(5))
        .await
        .err()
        .expect("fourth connection refused");
    assert_eq!(err.code(), Some(ErrorCode::TooManyConnections), "{err}");
    drop(held);
    // Slots free up as the daemon notices the closed connections.
    for _ in 0..200 {
        if Client::connect(&d.socket, Duration::from_secs(5))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("connection slots were never released");
}

async fn an_answer_too_big_for_a_frame_is_an_error_not_a_dropped_connection() {
    let config = format!(
        "{}max_frame_size = \"64KiB\"\n",
        crate::harness::TEST_CONFIG
    );
    let d = TestDaemon::start_with(&config);
    let mut client = d.client().await;
    // 200 keys of ~500 bytes: their listing is over 64 KiB.
    for i in 0..200 {
        let key = format!(
            "big:{}{i:03}:{}:{}",
            "k".repeat(120),
            "x".repeat(120),
            "y".repeat(120)
        );
        let set = Request::Set {
            key,
            value: Bytes::from_static(b"v"),
            ttl: None,
        };
        assert!(matches!(
            client.request(&set).await.unwrap(),
            Response::Stored(_)
        ));
    }
    match client
        .request(&Request::Keys { pattern: None })
        .await
        .unwrap()
    {
        Response::Error(e) => {
            assert_eq!(e.code, ErrorCode::FrameTooLarge);
            assert!(e.message.contains("ask for less"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    // The connection is still usable, and a narrower question gets its answer.
    let narrow = Request::Keys {
        pattern: Some("big:*00?:*".into()),
    };
    assert!(matches!(client.request(&narrow).await.unwrap(), Response::Keys(k) if k.len() == 10));
}

/// Tests move a daemon's clock instead of sleeping (`SHADCACHE_TEST_CLOCK=1`, which the
/// harness sets); a daemon started without it refuses, and its entries keep their TTLs.
async fn only_a_test_daemon_lets_its_clock_be_moved() {
    let set = Request::Set {
        key: "note:clock".into(),
        value: Bytes::from_static(b"v"),
        ttl: Some(Duration::from_secs(60)),
    };
    let get = Request::Get {
        key: "note:clock".into(),
    };
    let hour = Duration::from_secs(3600);

    let d = TestDaemon::prepare(TEST_CONFIG);
    let mut command = d.daemon_command();
    command.env_remove("SHADCACHE_TEST_CLOCK");
    let d = d.spawn(&mut command);
    assert!(matches!(d.request(set.clone()).await, Response::Stored(_)));
    let Response::Error(refused) = d.request(Request::AdvanceClock(hour)).await else {
        panic!("a daemon without SHADCACHE_TEST_CLOCK moved its clock")
    };
    assert_eq!(refused.code, ErrorCode::InvalidRequest);
    assert!(
        refused.message.contains("SHADCACHE_TEST_CLOCK=1"),
        "{refused:?}"
    );
    assert!(matches!(
        d.request(get.clone()).await,
        Response::Value(Some(_))
    ));

    let d = TestDaemon::start();
    assert!(matches!(d.request(set).await, Response::Stored(_)));
    d.advance_clock(hour).await;
    assert_eq!(
        d.request(get).await,
        Response::Value(None),
        "expired an hour later"
    );
}
