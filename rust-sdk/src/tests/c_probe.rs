// SPDX-License-Identifier: BSD-2-Clause
//! The layout tests' C side: compile a small C program with the system's
//! compiler (`$CC`, else `cc`), run it, and read what it prints, one
//! `KEY VALUE` pair per line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Compile `source` (as `<name>.c`, with `-I` for each of `include`),
/// run it, and return its output as a map from key to value.
pub(super) fn run(name: &str, source: &str, include: &[&Path]) -> BTreeMap<String, String> {
    let dir = std::env::temp_dir().join(format!("nbdkit-rust-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{}.c", name));
    let exe = dir.join(name);
    std::fs::write(&src, source).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut command = Command::new(&cc);
    command.args(["-std=gnu11", "-Wall", "-Werror"]);
    for dir in include {
        command.arg("-I").arg(dir);
    }
    let status = command
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {:?}: {}", cc, e));
    assert!(status.success(), "{} failed to compile {:?}", cc, src);
    let output = Command::new(&exe).output().unwrap();
    assert!(output.status.success(), "{:?} failed", exe);
    std::fs::remove_dir_all(&dir).ok();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (k, v) = line.split_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}
