//! Scenario loading and validation: any text as a scenario file must give a scenario or a
//! load error that names a line inside the file, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = harness::scenario::parse(Path::new("fuzz.yaml"), text)
        && let Some((line, _)) = error.location
    {
        // The YAML parser (YAML 1.1's rules) breaks lines at CRLF, LF, a lone CR, NEL, and the
        // Unicode line and paragraph separators alike.
        let lines = text
            .replace("\r\n", "\n")
            .replace(['\r', '\u{85}', '\u{2028}', '\u{2029}'], "\n")
            .lines()
            .count();
        assert!((1..=lines.max(1) + 1).contains(&line), "{error}");
    }
});
