//! tabphone's commands: `cargo xtask demo [--port N] [--sip-port N]`, `cargo xtask test`,
//! `cargo xtask bench [sip|tabs|phone|handover]`, `cargo xtask fuzz [SECONDS]`,
//! `cargo xtask soak [SECONDS]`, `cargo xtask build`.
//!
//! Each installs what is missing first (the wasm32 target, wasm-bindgen-cli at
//! the version in Cargo.lock, Debian's Chromium, ChromeDriver, Kamailio, sipp
//! and rtpengine, the npm packages in `tests/`, the pinned nightly the shipped
//! wasm is built with (`shipped.rs`); for fuzzing, nightly and cargo-fuzz), so
//! they work on a fresh machine.
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod demo;
mod kamailio;
mod names;
mod order;
mod serve;
mod shipped;
mod wasm;

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => ensure().and_then(|_| build()),
        Some("demo") => demo::demo(&args[1..]),
        Some("test") => test(),
        Some("browser") => browser(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => match args.get(1).map(|n| n.parse::<u32>()) {
            None => fuzz(300),
            Some(Ok(n)) => fuzz(n),
            Some(Err(_)) => Err("usage: cargo xtask fuzz [SECONDS]".into()),
        },
        Some("soak") => match args.get(1).map(|n| n.parse::<u32>()) {
            None => soak(300),
            Some(Ok(n)) => soak(n),
            Some(Err(_)) => Err("usage: cargo xtask soak [SECONDS]".into()),
        },
        _ => Err("usage: cargo xtask <demo [--port N] [--sip-port N] | test \
                  | bench [sip|tabs|phone|handover] | fuzz [SECONDS] | soak [SECONDS] | build \
                  | browser [TEST FILES]>"
            .into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The wasm-bindgen version pinned in Cargo.lock.
fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""# {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen not found in Cargo.lock".into())
}

/// Install whatever is missing; every step is skipped when already done.
fn ensure() -> Result<()> {
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets.lines().any(|t| t == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let want = wasm_bindgen_version()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    // Debian packages: the browser for the browser tests, the SIP server and peer
    // for the integration tests, and the media relay between WebRTC and plain RTP
    // (userspace only: without its recommends, and never the DKMS kernel module;
    // Kamailio's rtpengine module comes with `kamailio`). (package, a file it
    // installs, with its recommends)
    let packages = [
        ("chromium", "/usr/bin/chromium", true),
        ("chromium-driver", "/usr/bin/chromedriver", true),
        ("kamailio", "/usr/sbin/kamailio", true),
        ("kamailio-websocket-modules", "/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so", true),
        ("sip-tester", "/usr/bin/sipp", true),
        ("rtpengine-daemon", "/usr/bin/rtpengine", false),
    ];
    let missing = |recommends: bool| -> Vec<&str> {
        packages
            .iter()
            .filter(|(_, f, r)| *r == recommends && !Path::new(f).exists())
            .map(|(p, _, _)| *p)
            .collect()
    };
    let (full, lean) = (missing(true), missing(false));
    if !full.is_empty() || !lean.is_empty() {
        run(Command::new("apt-get").arg("update").arg("-qq"))?;
    }
    for (list, extra) in [(full, &[][..]), (lean, &["--no-install-recommends"][..])] {
        if !list.is_empty() {
            run(Command::new("apt-get")
                .args(["install", "-y", "-qq"])
                .args(extra)
                .args(&list)
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
        }
    }
    let tests = root().join("tests");
    let installed = ["playwright-core", "binaryen", "typescript", "esbuild"]
        .iter()
        .all(|p| tests.join("node_modules").join(p).exists());
    if !installed {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&tests))?;
    }
    Ok(())
}

/// Build the wasm module (release; the tab client with the worker's hub in
/// it: a tab and its worker load one module), bind it, shrink it, into
/// demo/pkg.
fn build() -> Result<()> {
    let root = root();
    let pkg = root.join("demo").join("pkg");
    std::fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    // What an older build left: the worker's own module.
    for old in [
        "tabphone_worker_bg.wasm",
        "tabphone_worker_bg.wasm.d.ts",
        "tabphone_worker.js",
        "tabphone_worker.d.ts",
    ] {
        let _ = std::fs::remove_file(pkg.join(old));
    }
    // wasm-bindgen adds snippets but never removes one a renamed file left.
    let _ = std::fs::remove_dir_all(pkg.join("snippets"));
    let wasm = shipped::build("release", "tabphone-tab", "tabphone_tab", "talc")?;
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--remove-name-section", "--remove-producers-section", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm))?;
    // npm's binaryen; Debian's wasm-opt 108 breaks wasm-bindgen's externref table.
    // Its passes run until the module stops shrinking (`--converge`: ~500 B
    // gzip less than one `-Oz`); the target-features section is for tools only.
    // A function with one caller is inlined only when tiny (`-ocimfs`, default
    // any size): a few KB more raw, 7 KB less gzip (big merged functions
    // compress worse; 10 to 25 is as good, 0 or 50 ~1-2 KB worse).
    let opt = root.join("tests/node_modules/.bin/wasm-opt");
    let bg = pkg.join("tabphone_tab_bg.wasm");
    run(Command::new(&opt)
        .args([
            "-Oz",
            "--one-caller-inline-max-function-size=20",
            "--converge",
            // The stack comes first in memory (rustc's wasm layout): the low
            // 1 KB is its bottom, reached only on the brink of overflow,
            // so load/store offsets may fold (~480 B gzip).
            "--low-memory-unused",
            "--strip-target-features",
        ])
        .args(WASM_FEATURES)
        .arg(&bg)
        .arg("-o")
        .arg(&bg))?;
    order::reorder(&opt, WASM_FEATURES, &bg)?;
    names::shorten(&pkg, "tabphone_tab")?;
    std::fs::copy(root.join("worker/js/worker.js"), pkg.join("worker.js")).map_err(|e| e.to_string())?;
    // Ship the JavaScript minified, the glue's snippets too: every tab loads
    // it (the typings are in the .d.ts files).
    let terser = root.join("tests/node_modules/.bin/terser");
    let mut files = vec![pkg.join("tabphone_tab.js"), pkg.join("worker.js")];
    js_files(&pkg.join("snippets"), &mut files)?;
    for file in &files {
        run(Command::new(&terser).arg(file).args(["--module", "--compress", "--mangle", "-o"]).arg(file))?;
    }
    // The glue and its snippets as one file: gzip then compresses them
    // together (~560 B less than three files), and a tab makes one request
    // for them. Minified again once bundled.
    let glue = pkg.join("tabphone_tab.js");
    let bundled = pkg.join("tabphone_tab.bundled.js");
    run(Command::new(root.join("tests/node_modules/.bin/esbuild"))
        .arg(&glue)
        .args(["--bundle", "--minify", "--format=esm", "--log-level=warning"])
        .arg(format!("--outfile={}", bundled.display())))?;
    std::fs::rename(&bundled, &glue).map_err(|e| e.to_string())?;
    std::fs::remove_dir_all(pkg.join("snippets")).map_err(|e| e.to_string())?;
    // Arrow functions where no `this` is used (every browser that has
    // SharedWorker and Web Locks reads ES2020): ~70 B less gzip.
    let compress = "unsafe_arrows=true,unsafe_methods=true,passes=2";
    run(Command::new(&terser)
        .arg(&glue)
        .args(["--module", "--ecma", "2020", "--compress", compress, "--mangle", "-o"])
        .arg(&glue))?;
    precompress(&[glue, pkg.join("worker.js"), bg])
}

/// The wasm features the shipped module uses, for wasm-opt.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

/// Write `<file>.gz` next to each file: gzip made by zopfli, which takes the
/// time to find a smaller encoding than `gzip -9` (the wasm: ~4% smaller).
/// `cargo xtask demo`'s server sends it to browsers that accept gzip; a real
/// deployment serves these files the same way (e.g. nginx's `gzip_static`).
fn precompress(files: &[PathBuf]) -> Result<()> {
    for file in files {
        let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut gz = Vec::new();
        zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, &data[..], &mut gz)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let mut name = file.clone().into_os_string();
        name.push(".gz");
        std::fs::write(&name, gz).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// The `.js` files under `dir`, at any depth.
fn js_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            js_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "js") {
            out.push(path);
        }
    }
    Ok(())
}

/// Nightly and cargo-fuzz, for the fuzz run of `cargo xtask test`.
fn ensure_fuzz() -> Result<()> {
    let toolchains = output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|t| t.starts_with("nightly")) {
        run(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    }
    if output(Command::new("cargo").args(["fuzz", "--version"])).is_none() {
        run(Command::new("cargo").args(["install", "cargo-fuzz"]))?;
    }
    Ok(())
}

/// Fuzz the SIP receive path for `seconds`, seeded with the RFC 4475 and
/// benchmark messages. A crash fails the run and leaves its input in
/// `fuzz/artifacts/receive/`.
fn fuzz(seconds: u32) -> Result<()> {
    ensure_fuzz()?;
    let root = root();
    let corpus = root.join("fuzz/corpus/receive");
    std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
    for dir in ["crates/tabphone-sip/tests/rfc4475", "tests/bench/sip"] {
        for entry in std::fs::read_dir(root.join(dir)).map_err(|e| e.to_string())?.flatten() {
            let name = entry.file_name();
            let keep = name.to_str().is_some_and(|n| n.ends_with(".dat") || n.ends_with(".sip"));
            if keep {
                std::fs::copy(entry.path(), corpus.join(&name)).map_err(|e| e.to_string())?;
            }
        }
    }
    run(Command::new("cargo")
        .args(["+nightly", "fuzz", "run", "receive"])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .current_dir(root.join("fuzz")))
}

fn test() -> Result<()> {
    ensure()?;
    let root = root();
    eprintln!("== native tests (cores, CLI against Kamailio and sipp)");
    run(Command::new("cargo").args(["test", "--workspace"]).current_dir(&root))?;
    eprintln!("== fuzzing the SIP receive path (60 s)");
    fuzz(60)?;
    eprintln!("== wasm-bindgen-test in a SharedWorker (worker glue)");
    run(Command::new("cargo")
        .args(["test", "--target", "wasm32-unknown-unknown", "-p", "tabphone-worker"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .current_dir(&root))?;
    eprintln!("== browser tests (Playwright, Debian Chromium)");
    build()?;
    build_media_test()?;
    eprintln!("== the tab's TypeScript typings, type-checked against a usage file (tests/types)");
    run(Command::new(root.join("tests/node_modules/.bin/tsc"))
        .args(["-p", "types"])
        .current_dir(root.join("tests")))?;
    browser_tests(&BROWSER_TESTS.map(String::from))
}

/// Every browser test file, in the order `test` runs them.
const BROWSER_TESTS: [&str; 7] = [
    "tabs.test.mjs",
    "media.test.mjs",
    "socket.test.mjs",
    "phone.test.mjs",
    "plain-rtp.test.mjs",
    "handover.test.mjs",
    "peers.test.mjs",
];

/// `cargo xtask browser [FILES]`: build, then run these browser test files
/// (all of them when none is named) against a fresh static server.
fn browser(files: &[String]) -> Result<()> {
    ensure()?;
    build()?;
    build_media_test()?;
    if files.is_empty() {
        return browser_tests(&BROWSER_TESTS.map(String::from));
    }
    browser_tests(files)
}

/// JsSIP, a SIP user agent this project did not write, as a peer in Chromium (tests/pages/jssip).
fn bundle_jssip() -> Result<()> {
    bundle_npm("node_modules/jssip/lib/JsSIP.js", &root().join("tests/pages/jssip/pkg/jssip.min.js"))
}

fn browser_tests(files: &[String]) -> Result<()> {
    bundle_jssip()?;
    let server = serve::Server::start(0, serve::roots())?;
    // `TEST_PATTERN=regex` runs only the tests whose names match.
    let pattern = std::env::var("TEST_PATTERN").ok().map(|p| format!("--test-name-pattern={p}"));
    run(Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(pattern)
        .args(files)
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .current_dir(root().join("tests")))
}

/// Bundle and minify an npm package of `tests/` (its `entry`, relative to `tests/`) into one
/// ES module at `out`, with the esbuild of `tests/node_modules`.
fn bundle_npm(entry: &str, out: &Path) -> Result<()> {
    let tests = root().join("tests");
    run(Command::new(tests.join("node_modules/.bin/esbuild"))
        .args([entry, "--bundle", "--minify", "--format=esm", "--log-level=warning"])
        .arg(format!("--outfile={}", out.display()))
        .current_dir(&tests))
}

/// The test-only surface over the tab client's media layer, SIP socket and
/// timer (`tests/media-surface`), bound into `tests/pages/media/pkg` for
/// `tests/media.test.mjs` and `tests/socket.test.mjs`. Not shrunk: it is never shipped.
fn build_media_test() -> Result<()> {
    let root = root();
    run(Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "tabphone-media-test",
            "--lib",
        ])
        .current_dir(&root))?;
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-dir"])
        .arg(root.join("tests/pages/media/pkg"))
        .arg(root.join("target/wasm32-unknown-unknown/release/tabphone_media_test.wasm")))
}

/// SIP parse throughput: native, then the core as wasm in Node beside SIP.js
/// and JsSIP, built twice: with the `bench-sip` profile (the SIP core at
/// opt-level 3) and with `release` (opt-level "z", what the tab ships).
fn bench_sip() -> Result<()> {
    let root = root();
    eprintln!("== SIP parse and serialize (native, profile bench-sip: the SIP core at opt-level 3)");
    run(Command::new("cargo")
        .args(["run", "--quiet", "--profile", "bench-sip", "-p", "tabphone-sip-bench"])
        .current_dir(&root))?;
    for (profile, what) in [("bench-sip", "opt-level 3"), ("release", "opt-level \"z\", as shipped")] {
        eprintln!(
            "== SIP parse in wasm, profile {profile} (the SIP core at {what}; built as the shipped wasm is)"
        );
        let wasm = shipped::build(profile, "tabphone-sip-bench", "tabphone_sip_bench", "")?;
        let pkg = root.join(format!("target/sip-bench-pkg-{profile}"));
        run(Command::new("wasm-bindgen").args(["--target", "nodejs", "--out-dir"]).arg(&pkg).arg(&wasm))?;
        run(Command::new("node")
            .arg("bench/sip-parse.mjs")
            .env("SIP_WASM_PKG", &pkg)
            .current_dir(root.join("tests")))?;
    }
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    let which = match args {
        [] => "all",
        [w] if matches!(w.as_str(), "sip" | "tabs" | "phone" | "handover") => w.as_str(),
        _ => return Err("usage: cargo xtask bench [sip|tabs|phone|handover]".into()),
    };
    ensure()?;
    if matches!(which, "all" | "sip") {
        bench_sip()?;
    }
    if matches!(which, "all" | "tabs") {
        bench_tabs()?;
    }
    if matches!(which, "all" | "phone") {
        bench_phone()?;
    }
    if which == "handover" {
        build()?;
        let server = serve::Server::start(0, serve::roots())?;
        bench_handover(server.port)?;
    }
    Ok(())
}

/// The worker against a JS relay baseline.
fn bench_tabs() -> Result<()> {
    eprintln!("== tabs: worker round trips, fan-out, promotion");
    build()?;
    let root = root();
    let server = serve::Server::start(0, serve::roots())?;
    run(Command::new("node")
        .arg("bench/bench.mjs")
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("PKG_DIR", root.join("demo/pkg"))
        .current_dir(root.join("tests")))
}

/// The churn soak (`tests/soak.mjs`): one profile, 3 to 12 tabs, random opens,
/// closes, crashes and freezes for `seconds`, an action every 300 ms. Not part
/// of `test`: it takes minutes and prints figures.
fn soak(seconds: u32) -> Result<()> {
    ensure()?;
    build()?;
    let server = serve::Server::start(0, serve::roots())?;
    run(Command::new("node")
        .arg("soak.mjs")
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("SOAK_SECONDS", seconds.to_string())
        .current_dir(root().join("tests")))
}

/// The browser phone beside SIP.js (npm, bundled and minified here with
/// esbuild) in Chromium through Kamailio: registration, call setup, handover, sizes;
/// then the audio gap of a call's handover (`bench_handover`).
fn bench_phone() -> Result<()> {
    eprintln!("== phone: tabphone beside SIP.js in Chromium, through Kamailio");
    build()?;
    let root = root();
    let tests = root.join("tests");
    let bundle = tests.join("pages/bench/pkg/sip.min.js");
    bundle_npm("node_modules/sip.js/lib/index.js", &bundle)?;
    // Served like tabphone's files: the sizes compare the same way.
    precompress(std::slice::from_ref(&bundle))?;
    let server = serve::Server::start(0, serve::roots())?;
    run(Command::new("node")
        .arg("bench/phone.mjs")
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("PKG_DIR", root.join("demo/pkg"))
        .env("SIPJS_BUNDLE", &bundle)
        .current_dir(&tests))?;
    bench_handover(server.port)
}

/// The audio gap at bob when alice's call moves to her next real tab (`tests/bench/handover.mjs`),
/// against the static server on `port`, with the demo built.
fn bench_handover(port: u16) -> Result<()> {
    eprintln!("== handover: the audio gap at the far end when a call moves to a new real tab");
    bundle_jssip()?;
    run(Command::new("node")
        .arg("bench/handover.mjs")
        .env("BASE_URL", format!("http://127.0.0.1:{port}"))
        .current_dir(root().join("tests")))
}
