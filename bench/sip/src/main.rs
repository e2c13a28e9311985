//! Native parse and parse+serialize throughput on the messages in
//! `tests/bench/sip/`. Prints messages per second (median of 7 runs of about
//! 0.2 s) and the slowest run; `cargo xtask bench` runs it.
use std::time::{Duration, Instant};

fn rate(f: &dyn Fn() -> u32) -> (f64, f64) {
    let mut sink = 0u32;
    for _ in 0..2000 {
        sink = sink.wrapping_add(f());
    }
    let mut n = 1000u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            sink = sink.wrapping_add(f());
        }
        if t.elapsed() > Duration::from_millis(200) {
            break;
        }
        n *= 2;
    }
    let mut rates: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                sink = sink.wrapping_add(f());
            }
            f64::from(n) / t.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    std::hint::black_box(sink);
    (rates[3], rates[0])
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bench/sip");
    println!(
        "native ({} build): messages/s, median of 7 runs (slowest run)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    for name in ["register.sip", "401.sip", "invite-webrtc.sip", "200-ok.sip"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(tabphone_sip_bench::parse(&text) > 0, "{name} must parse");
        let (p, p_min) = rate(&|| tabphone_sip_bench::parse(&text));
        let (ps, ps_min) = rate(&|| tabphone_sip_bench::parse_serialize(&text));
        println!("  {name:<18} parse {p:>10.0}/s ({p_min:.0})   parse+serialize {ps:>10.0}/s ({ps_min:.0})");
    }
}
