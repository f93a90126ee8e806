// Links kiste as a position-dependent executable. A PIE of this size carries ~450 kB of
// .data.rel.ro and GOT that the dynamic loader must relocate at every start, turning those
// pages into private dirty memory in every process: each container's idle monitor paid for it
// in RSS and every kiste call in start time. Fixed at link time instead, they stay clean pages
// of the file, shared by all processes and read only where touched. Libraries, heap, stack and
// mmap areas are still placed at random.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    // `kiste version` names the compiler where Podman names its Go.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    println!("cargo:rustc-env=KISTE_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-changed=build.rs");
}
