//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

/// The RFC 4475 messages: (name, class from INDEX.tsv, bytes).
pub fn corpus() -> Vec<(String, String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rfc4475");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    index
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let bytes = std::fs::read(dir.join(cols[0])).expect("message file");
            assert_eq!(bytes.len().to_string(), cols[5], "{} size", cols[0]);
            (cols[0].trim_end_matches(".dat").to_string(), cols[3].to_string(), bytes)
        })
        .collect()
}
pub mod harness;
