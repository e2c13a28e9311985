//! How the shipped wasm is compiled: on a pinned nightly, with the standard
//! library rebuilt for size (`-Zbuild-std` with its `optimize_for_size`
//! feature: the smaller of its algorithms, e.g. sorting), panics that abort at once
//! without formatting a message (`-Cpanic=immediate-abort`; with
//! `panic = "abort"` on wasm32-unknown-unknown the message went nowhere
//! anyway) and no panic locations (`-Zlocation-detail=none`). Everything a
//! tab loads, gzip: 186,790 bytes built with stable, 176,582 so (measured
//! before the handover merge; `optimize_for_size` took 782 more off after
//! it). The build's later steps (short names, wasm-opt's inlining limit, in
//! `main.rs` and `names.rs`) took it from 185,941 to 168,743 bytes; the
//! code itself has shrunk since (115,752 bytes by `gzip -9`, with talc as
//! the allocator: feature `talc` of tabphone-tab, turned on here; the
//! function order of `order.rs` and `--low-memory-unused` took 3.5 KB of
//! that; 110,155 bytes as served, zopfli's `.gz` files).
//! No `Debug` is linked: messages quote text with `tabphone_json::quote`
//! (`-Zfmt-debug=none` took 3.3 KB off before, by blanking `{:?}` in
//! messages users see; it would change nothing now).
//!
//! The nightly is pinned so that every machine ships the same bytes; it is
//! installed when missing (minimal profile and `rust-src`).
//! `TABPHONE_STABLE_BUILD=1` builds with stable instead (larger).
use std::path::PathBuf;
use std::process::Command;

use super::{output, root, run, Result};

/// The nightly the shipped wasm is built with.
pub const NIGHTLY: &str = "nightly-2026-05-20";

const RUSTFLAGS: &str = "-Cpanic=immediate-abort -Zunstable-options -Zlocation-detail=none";

fn stable() -> bool {
    std::env::var_os("TABPHONE_STABLE_BUILD").is_some_and(|v| v == "1")
}

/// Install the pinned nightly with `rust-src` unless it is there.
pub fn ensure() -> Result<()> {
    if stable() {
        return Ok(());
    }
    let installed =
        output(Command::new("rustup").args(["component", "list", "--installed", "--toolchain", NIGHTLY]))
            .unwrap_or_default();
    if !installed.lines().any(|c| c.starts_with("rust-src")) {
        run(Command::new("rustup")
            .args(["toolchain", "install", NIGHTLY, "--profile", "minimal"])
            .args(["--component", "rust-src"]))?;
    }
    Ok(())
}

/// Build `package`'s wasm (library `lib`) with `profile` and `features` as
/// shipped; the path of the `.wasm`.
pub fn build(profile: &str, package: &str, lib: &str, features: &str) -> Result<PathBuf> {
    ensure()?;
    let root = root();
    let mut cargo = Command::new("cargo");
    let build = ["build", "--profile", profile, "--target", "wasm32-unknown-unknown", "-p", package, "--lib"];
    let build = [&build[..], &["--features", features]].concat();
    let target = if stable() {
        cargo.args(&build);
        root.join("target")
    } else {
        // Its own target folder: the std it builds differs from stable's.
        let target = root.join("target/shipped");
        cargo
            .arg(format!("+{NIGHTLY}"))
            .args(&build)
            .args(["-Zbuild-std=std,panic_abort", "-Zbuild-std-features=optimize_for_size", "--target-dir"])
            .arg(&target)
            .env("RUSTFLAGS", RUSTFLAGS)
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        target
    };
    run(cargo.current_dir(&root))?;
    Ok(target.join(format!("wasm32-unknown-unknown/{profile}/{lib}.wasm")))
}
