//! Checks that the committed `include/rs2p.h` is exactly what cbindgen generates from the
//! current `src/ffi` (the same generation `build.rs` runs). Not a test of the functions
//! themselves (see `tests/c/`).
//!
//! `make header` regenerates the file: it runs this test with `RS2P_WRITE_HEADER=1`.

#[allow(dead_code)]
#[path = "../build.rs"]
mod build_script;

use std::path::Path;

const REGENERATE: &str = "run `make header` and commit include/rs2p.h";

#[test]
fn committed_header_matches_the_source() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header_path = crate_dir.join("include").join("rs2p.h");
    let bindings = build_script::generate_header(crate_dir)
        .unwrap_or_else(|error| panic!("cannot generate the header: {error}"));
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("cbindgen writes UTF-8");

    if std::env::var_os("RS2P_WRITE_HEADER").is_some() {
        std::fs::create_dir_all(crate_dir.join("include")).expect("create include/");
        std::fs::write(&header_path, &generated).expect("write include/rs2p.h");
        eprintln!("wrote {}", header_path.display());
        return;
    }

    let committed = std::fs::read_to_string(&header_path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error}; {REGENERATE}",
            header_path.display()
        )
    });
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .enumerate()
            .find(|(_, (old, new))| old != new)
            .map(|(index, (old, new))| {
                format!(
                    "first difference at line {}:\n  committed: {old}\n  generated: {new}",
                    index + 1
                )
            })
            .unwrap_or_else(|| "one file is a prefix of the other".to_owned());
        panic!("include/rs2p.h is out of date with src/ffi ({first_difference}); {REGENERATE}");
    }
}
