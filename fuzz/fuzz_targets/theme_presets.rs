#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shadcache::fuzzing::theme_presets(data));
