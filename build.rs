//! Build script: generates the C header with cbindgen into OUT_DIR (never into the source
//! tree; the committed `include/rs2p.h` is compared by `tests/header_drift.rs`) and gives the
//! shared library its SONAME. Not here: compiling any C code.
//!
//! `tests/header_drift.rs` includes this file to build the header exactly the same way.

use std::path::{Path, PathBuf};

/// The `#define`s of the version, placed after the includes of the header.
pub fn version_macros() -> String {
    format!(
        "\n#define RS2P_VERSION_MAJOR {}\n#define RS2P_VERSION_MINOR {}\n#define RS2P_VERSION_PATCH {}",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    )
}

/// The header for the crate at `crate_dir`: cbindgen.toml plus the version macros, reading the
/// `src/ffi` module tree only.
pub fn generate_header(crate_dir: &Path) -> Result<cbindgen::Bindings, String> {
    let config_path = crate_dir.join("cbindgen.toml");
    let mut config = cbindgen::Config::from_file(&config_path)
        .map_err(|error| format!("cannot read {}: {error}", config_path.display()))?;
    config.after_includes = Some(version_macros());
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src").join("ffi").join("mod.rs"))
        .generate()
        .map_err(|error| format!("cbindgen failed on src/ffi: {error}"))
}

#[allow(dead_code)] // unused when tests/header_drift.rs includes this file
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");

    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if !matches!(target_os.as_str(), "macos" | "ios" | "windows") {
        // ELF platforms: the runtime name follows the ABI major version (librs2p.so.0).
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-soname,librs2p.so.{}",
            env!("CARGO_PKG_VERSION_MAJOR")
        );
    }

    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    // A header problem must not stop the library from building for everyone else working on
    // the crate; tests/header_drift.rs fails loudly on the same problem instead.
    match generate_header(&crate_dir) {
        Ok(bindings) => {
            bindings.write_to_file(out_dir.join("rs2p.h"));
        }
        Err(error) => println!("cargo:warning=rs2p.h not generated: {error}"),
    }
}
