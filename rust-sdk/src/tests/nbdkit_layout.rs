// SPDX-License-Identifier: BSD-2-Clause
//! Pins `nbdkit_ffi.rs` to nbdkit's own `<nbdkit-plugin.h>` (API version
//! 2), as `layout.rs` pins `ffi.rs` to the ABI header: a small C program
//! compiled against the real header (`$CC`, else `cc`) prints the size
//! and alignment of `struct nbdkit_plugin` and the offset, size and
//! alignment of each field; every value must be the Rust side's.
//!
//! Without nbdkit's headers (nbdkit-plugin-dev) there is nothing to
//! compare with: the test says so on stderr and passes.

use std::collections::BTreeMap;

use super::c_probe;
use crate::layout::field_layout;
use crate::nbdkit_ffi::{nbdkit_plugin, NBDKIT_API_VERSION};

/// `[(field, (offset, size, align))]`, in declaration order.
macro_rules! fields {
    ($type:ident: $($field:ident),* $(,)?) => {
        vec![$( (stringify!($field), field_layout!($type, $field)) ),*]
    };
}

fn plugin_fields() -> Vec<(&'static str, (usize, usize, usize))> {
    fields!(nbdkit_plugin:
        _struct_size, _api_version, _thread_model,
        name, longname, version, description,
        load, unload, config, config_complete, config_help,
        open, close, get_size,
        can_write, can_flush, is_rotational, can_trim,
        _pread_v1, _pwrite_v1, _flush_v1, _trim_v1, _zero_v1,
        errno_is_preserved, dump_plugin, can_zero, can_fua,
        pread, pwrite, flush, trim, zero,
        magic_config_key, can_multi_conn, can_extents, extents, can_cache, cache,
        thread_model, can_fast_zero, preconnect, get_ready, after_fork,
        list_exports, default_export, export_description, cleanup, block_size,
    )
}

/// The C program: one `name value` line per number, or only
/// `NO_HEADER 1` without `<nbdkit-plugin.h>`.
fn c_program(fields: &[(&'static str, (usize, usize, usize))]) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n\
         #include <stddef.h>\n\
         #if __has_include(<nbdkit-plugin.h>)\n\
         #define NBDKIT_API_VERSION 2\n\
         #include <nbdkit-plugin.h>\n\
         #define P(name, value) printf (\"%s %lld\\n\", name, (long long) (value))\n\
         int main (void) {\n\
         \x20 P (\"sizeof\", sizeof (struct nbdkit_plugin));\n\
         \x20 P (\"alignof\", __alignof__ (struct nbdkit_plugin));\n\
         \x20 P (\"NBDKIT_API_VERSION\", NBDKIT_API_VERSION);\n",
    );
    for (field, _) in fields {
        c.push_str(&format!(
            "  P (\"{f}.offset\", offsetof (struct nbdkit_plugin, {f}));\n\
             \x20 P (\"{f}.size\", sizeof (((struct nbdkit_plugin *) 0)->{f}));\n\
             \x20 P (\"{f}.align\", __alignof__ (((struct nbdkit_plugin *) 0)->{f}));\n",
            f = field
        ));
    }
    c.push_str(
        "  return 0;\n}\n\
         #else\n\
         int main (void) { printf (\"NO_HEADER 1\\n\"); return 0; }\n\
         #endif\n",
    );
    c
}

/// Compile and run the C program; its output as a map.
fn run_c(source: &str) -> BTreeMap<String, i64> {
    c_probe::run("nbdkit_layout", source, &[])
        .into_iter()
        .map(|(k, v)| (k, v.parse().unwrap()))
        .collect()
}

#[test]
fn nbdkit_ffi_matches_nbdkit_plugin_h() {
    let fields = plugin_fields();
    let c = run_c(&c_program(&fields));
    if c.contains_key("NO_HEADER") {
        eprintln!("<nbdkit-plugin.h> not installed: struct nbdkit_plugin not checked");
        return;
    }
    let get = |key: &str| -> i64 {
        *c.get(key)
            .unwrap_or_else(|| panic!("the C program printed no {}", key))
    };
    assert_eq!(get("NBDKIT_API_VERSION"), i64::from(NBDKIT_API_VERSION));
    let size = std::mem::size_of::<nbdkit_plugin>();
    let align = std::mem::align_of::<nbdkit_plugin>();
    assert_eq!(get("sizeof"), size as i64, "sizeof");
    assert_eq!(get("alignof"), align as i64, "alignof");
    for (field, (offset, fsize, falign)) in &fields {
        assert_eq!(
            get(&format!("{}.offset", field)),
            *offset as i64,
            "{}",
            field
        );
        assert_eq!(get(&format!("{}.size", field)), *fsize as i64, "{}", field);
        assert_eq!(
            get(&format!("{}.align", field)),
            *falign as i64,
            "{}",
            field
        );
    }
    // The fields listed tile the struct with only the padding their
    // alignment needs, so no field of the header is missing here.
    let mut end = 0;
    for (field, (offset, fsize, falign)) in &fields {
        let aligned = (end + falign - 1) / falign * falign;
        assert_eq!(*offset, aligned, "a gap before {}", field);
        end = offset + fsize;
    }
    assert_eq!((end + align - 1) / align * align, size, "a gap at the end");
}
