use std::path::PathBuf;

use super::*;

type Target = fn(&[u8]);

/// Every fuzz target by the name of its file in `fuzz/fuzz_targets/`.
const TARGETS: &[(&str, Target)] = &[
    ("frames", frames),
    ("hello", hello),
    ("key", key),
    ("config", config),
    ("tree", tree),
    ("contents", contents),
    ("registry_file", registry_file),
    ("quota", quota),
    ("domain_values", domain_values),
    ("theme_presets", theme_presets),
];

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.is_file());
    files.sort();
    files
}

/// The committed seeds and kept crash regressions, through the same checks the fuzzer
/// runs; every target must have seeds, so an emptied corpus fails here.
#[test]
fn the_seed_corpus_and_kept_regressions_pass() {
    let mut failed = Vec::new();
    for (name, target) in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(name));
        assert!(!seeds.is_empty(), "no seed corpus for {name}");
        let kept = files(&fuzz_dir().join("artifacts").join(name));
        for file in seeds.iter().chain(&kept) {
            let data = std::fs::read(file).unwrap();
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "failed: {failed:#?}");
}

#[test]
fn the_target_list_matches_fuzz_targets() {
    let mut names: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut ours: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    ours.sort();
    assert_eq!(names, ours);
}
