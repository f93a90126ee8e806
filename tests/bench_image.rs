//! Not tests: push the benchmarks' images to a registry that is already running — pull's
//! (seeded, >= 60 MiB of gzip layers; optional KISTE_BENCH_MB, default 60) and build's python
//! stand-in:
//!   KISTE_BENCH_REGISTRY=127.0.0.1:PORT cargo test --release --test bench_image -- --ignored NAME
//! Each prints the image reference and ID.

mod common;

#[test]
#[ignore = "makes the benchmark image; needs KISTE_BENCH_REGISTRY=host:port"]
fn make_bench_image() {
    let registry =
        std::env::var("KISTE_BENCH_REGISTRY").expect("set KISTE_BENCH_REGISTRY=127.0.0.1:PORT (a running registry)");
    let mb = std::env::var("KISTE_BENCH_MB").map(|v| v.parse().expect("KISTE_BENCH_MB: a number")).unwrap_or(60);
    let dir = common::ScratchDir::new("bench");
    let id = common::images::big(&dir, mb);
    common::push_layout(&dir, &registry, "bench/big:latest", false, None);
    println!("{registry}/bench/big:latest {id}");
}

#[test]
#[ignore = "makes the build benchmark's python image; needs KISTE_BENCH_REGISTRY=host:port"]
fn make_python_image() {
    let registry =
        std::env::var("KISTE_BENCH_REGISTRY").expect("set KISTE_BENCH_REGISTRY=127.0.0.1:PORT (a running registry)");
    let dir = common::ScratchDir::new("bench");
    let id = common::images::python(&dir);
    common::push_layout(&dir, &registry, "bench/python:3.11-slim", false, None);
    println!("{registry}/bench/python:3.11-slim {id}");
}
