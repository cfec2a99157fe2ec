//! The theme tools on the command line (`themes`, `theme`, `theme apply`) against tweakcn's
//! recorded presets file: upstream's answers byte for byte, a project's CSS written once with
//! a backup, the presets file cached like any upstream file (revalidated with its ETag, a bad
//! copy refused while the good one serves) and the three commands working with GitHub off.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use shadcache::protocol::{Request, Response, TierName};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::FakeOrigin;

use crate::harness::{BIN, TestDaemon, base_command};
use crate::runner::tests;

tests![
    list_get_and_apply_answer_as_upstream_does,
    the_presets_are_revalidated_and_a_bad_copy_never_replaces_a_good_one,
    with_github_off_the_cached_presets_still_serve_all_three,
];

const PRESETS: &str = "/raw/jnsahaj/tweakcn/main/utils/theme-presets.ts";

/// Upstream's answer to the call whose header line starts with `header`.
fn upstream(header: &str) -> String {
    let all = std::fs::read_to_string(fixtures().join("theme-tools-upstream-outputs.txt")).unwrap();
    let rest = &all[all.find(header).unwrap_or_else(|| panic!("no {header}"))..];
    let open = "--- text (exact, between markers) ---\n";
    let start = rest.find(open).unwrap() + open.len();
    let end = rest[start..].find("\n--- end ---").unwrap();
    rest[start..start + end].to_owned()
}

fn daemon_for(origin: &FakeOrigin, extra: &str) -> TestDaemon {
    TestDaemon::start_with(&format!(
        "{}requests_per_second = 10000\n{extra}\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n",
        origin.github_section()
    ))
}

/// The CLI run in `cwd` (the project `theme apply` writes into).
fn cli_in(d: &TestDaemon, cwd: &Path, args: &[&str]) -> Output {
    let mut command: Command = base_command(BIN);
    command
        .current_dir(cwd)
        .arg("--socket")
        .arg(&d.socket)
        .arg("--config")
        .arg(&d.config)
        .args(args)
        .stdin(Stdio::null());
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The `upstream` answers end without a newline; the CLI adds one.
fn printed(text: &str) -> String {
    format!("{text}\n")
}

async fn list_get_and_apply_answer_as_upstream_does() {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let d = daemon_for(&origin, "");
    let project = tempfile::tempdir().unwrap();
    let here = project.path();
    let run = |args: &[&str]| stdout(&cli_in(&d, here, args));

    assert_eq!(
        run(&["themes"]),
        printed(&upstream("### tools/call list_themes {}"))
    );
    assert_eq!(
        run(&["themes", "NIGHT"]),
        printed(&upstream(r#"### tools/call list_themes {"query":"NIGHT"}"#))
    );
    for (name, header) in [
        (
            "modern-minimal",
            r#"### tools/call get_theme {"themeName":"modern-minimal"}"#,
        ),
        (
            "cosmic night",
            r#"### tools/call get_theme {"themeName":"cosmic night"}"#,
        ),
        ("MONO", r#"### tools/call get_theme {"themeName":"MONO"}"#),
    ] {
        assert_eq!(run(&["theme", name]), printed(&upstream(header)), "{name}");
    }
    let missing = cli_in(&d, here, &["theme", "no-such-theme"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Theme not found: no-such-theme"));

    assert_eq!(
        run(&["theme", "apply", "modern-minimal", "--dry-run"]),
        printed(&upstream(
            r#"### tools/call apply_theme {"presetId":"modern-minimal","dryRun":true}"#
        ))
    );
    assert_eq!(
        run(&["theme", "apply", "cyber", "--dry-run", "--tailwind", "4"]),
        printed(&upstream(
            r#"### tools/call apply_theme {"query":"cyber","dryRun":true,"tailwindVersion":"4"}"#
        ))
    );
    assert!(!here.join("src").exists(), "a dry run wrote something");

    // Into a project's app/globals.css, as upstream wrote it, and only once.
    std::fs::create_dir_all(here.join("app")).unwrap();
    let css = here.join("app/globals.css");
    std::fs::write(&css, "@import \"tailwindcss\";\n\nbody { margin: 0; }\n").unwrap();
    let said = run(&["theme", "apply", "mono"]);
    assert!(
        said.starts_with(&format!("Successfully applied theme to {}", css.display())),
        "{said}"
    );
    let all = std::fs::read_to_string(fixtures().join("theme-tools-upstream-outputs.txt")).unwrap();
    let marker = "--- first write: app/globals.css after the call (exact, 2872 bytes) ---\n";
    let at = all.find(marker).unwrap() + marker.len();
    let written = std::fs::read_to_string(&css).unwrap();
    assert_eq!(written, all[at..at + 2872]);
    run(&["theme", "apply", "mono"]);
    assert_eq!(
        std::fs::read_to_string(&css).unwrap(),
        written,
        "applied twice, it grew"
    );
    let backups = std::fs::read_dir(here.join("app"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy()
                .starts_with(".mcp-backup-globals.css.")
        })
        .count();
    assert!(backups >= 1);
    // One download served every call.
    assert_eq!(origin.count(PRESETS), 1, "{:?}", origin.requests());
}

async fn the_presets_are_revalidated_and_a_bad_copy_never_replaces_a_good_one() {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let d = daemon_for(&origin, "\n[ttl]\ntheme = \"1s\"\n");
    // The stale copy is L2's (L1 drops what expired), and L2 opens after the daemon is ready.
    d.wait_l2_up().await;
    let get = || Request::Get {
        key: "theme:tweakcn".into(),
    };
    let good = match d.request(get()).await {
        Response::Value(Some(found)) => found.value,
        other => panic!("{other:?}"),
    };
    d.wait_l2_holds(1).await;
    d.advance_clock(Duration::from_millis(1_100)).await;
    // Expired: answered at once, and revalidated behind it with the ETag (a 304).
    match d.request(get()).await {
        Response::Value(Some(found)) => assert_eq!(found.value, good),
        other => panic!("{other:?}"),
    }
    d.wait_for_stats("the 304", |s| {
        s.tiers
            .iter()
            .any(|t| t.tier == TierName::Github && t.revalidated >= 1)
    })
    .await;

    // Upstream breaks the file: the refresh is refused, the good copy keeps serving.
    origin.set(
        PRESETS,
        200,
        b"export const defaultPresets = { broken: ".to_vec(),
    );
    d.advance_clock(Duration::from_millis(1_100)).await;
    for _ in 0..3 {
        match d.request(get()).await {
            Response::Value(Some(found)) => assert_eq!(found.value, good),
            other => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let themes = stdout(&d.cli(&["themes"], None));
    assert!(themes.contains("modern-minimal"));

    // A daemon with no good copy says what is wrong with upstream's.
    let cold = daemon_for(&origin, "");
    let out = cold.cli(&["themes"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("theme-presets.ts"), "{err}");
}

async fn with_github_off_the_cached_presets_still_serve_all_three() {
    let origin = FakeOrigin::with_fixtures(&fixtures()).await.unwrap();
    let mut d = daemon_for(&origin, "");
    d.wait_l2_up().await;
    stdout(&d.cli(&["themes"], None));
    // The same data dir, GitHub off.
    d.signal(libc::SIGTERM);
    d.wait_exit(Duration::from_secs(20));
    std::fs::write(
        &d.config,
        "[github]\nenabled = false\n\n[daemon]\nframe_timeout = \"1s\"\n",
    )
    .unwrap();
    let mut command = d.daemon_command();
    let mut d = d.launch(&mut command);
    d.wait_ready();
    origin.close();
    // Reads skip L2 while it opens.
    d.wait_l2_up().await;
    let project = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| stdout(&cli_in(&d, project.path(), args));
    assert_eq!(
        run(&["themes"]),
        printed(&upstream("### tools/call list_themes {}"))
    );
    assert_eq!(
        run(&["theme", "MONO"]),
        printed(&upstream(
            r#"### tools/call get_theme {"themeName":"MONO"}"#
        ))
    );
    let said = run(&["theme", "apply", "mono"]);
    assert!(said.contains("src/styles/globals.css"), "{said}");
    assert!(project.path().join("src/styles/globals.css").exists());
}
