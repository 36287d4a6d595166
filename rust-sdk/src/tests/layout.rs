// SPDX-License-Identifier: BSD-2-Clause
//! Pins `ffi.rs` to `abi/nbdkit-rust-abi.h`: compiles a small C program
//! against the header with the C compiler (`$CC`, else `cc`), which
//! prints the size and alignment of the three structs (host table,
//! plugin and filter descriptors), the offset, size and
//! alignment of each of their fields, and the header's constants; then
//! compares every value with the Rust side's.
//!
//! It also checks the errno values of `errno.rs` against `<errno.h>` and,
//! when nbdkit's own headers are installed, the flag and enum values of
//! `types.rs` against `<nbdkit-plugin.h>` and `<nbdkit-filter.h>`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::c_probe;
use crate::ffi::{self, nbdkit_rust_filter, nbdkit_rust_host, nbdkit_rust_plugin};
use crate::layout::field_layout;

/// `(struct, [(field, (offset, size, align))])` for every field, in
/// declaration order.
macro_rules! rust_fields {
    ($type:ident: $($field:ident),* $(,)?) => {
        (
            stringify!($type),
            std::mem::size_of::<$type>(),
            std::mem::align_of::<$type>(),
            vec![$( (stringify!($field), field_layout!($type, $field)) ),*],
        )
    };
}

type Layout = (
    &'static str,
    usize,
    usize,
    Vec<(&'static str, (usize, usize, usize))>,
);

fn host_layout() -> Layout {
    rust_fields!(nbdkit_rust_host:
        abi_major, abi_minor, struct_size, nbdkit_version, error, debug, set_error,
        export_name, is_tls, peer_name, peer_pid, peer_uid, peer_gid, shutdown, disconnect,
        parse_size, parse_bool, parse_probability, parse_int, parse_unsigned,
        parse_int8_t, parse_uint8_t, parse_int16_t, parse_uint16_t,
        parse_int32_t, parse_uint32_t, parse_int64_t, parse_uint64_t,
        read_password, realpath, absolute_path, nanosleep, stdio_safe,
        add_extent, add_export, use_default_export, strdup_intern, strndup_intern, free,
        next_prepare, next_finalize, next_get_size, next_export_description, next_block_size,
        next_can_write, next_can_flush, next_is_rotational, next_can_trim, next_can_zero,
        next_can_fast_zero, next_can_extents, next_can_fua, next_can_multi_conn,
        next_can_cache, next_pread, next_pwrite, next_flush, next_trim, next_zero,
        next_extents, next_cache,
        next_config, next_config_complete, next_preconnect, next_list_exports,
        next_default_export, next_open,
        extents_new, extents_free, extents_count, get_extent, extents_full,
        exports_new, exports_free, exports_count, get_export,
        context_get_backend, next_context_open, next_context_close, context_set_next,
    )
}

fn plugin_layout() -> Layout {
    rust_fields!(nbdkit_rust_plugin:
        abi_major, abi_minor, struct_size,
        name, longname, version, description, config_help, magic_config_key, sdk_version,
        max_thread_model, reserved0,
        load, unload, config, config_complete, dump_plugin, thread_model, get_ready,
        after_fork, cleanup,
        preconnect, list_exports, default_export,
        open, close,
        get_size, export_description, block_size, can_write, can_flush, is_rotational,
        can_trim, can_zero, can_fast_zero, can_fua, can_multi_conn, can_extents, can_cache,
        pread, pwrite, flush, trim, zero, extents, cache,
        load_checked, dump_plugin_checked,
    )
}

fn filter_layout() -> Layout {
    rust_fields!(nbdkit_rust_filter:
        abi_major, abi_minor, struct_size,
        name, longname, version, description, config_help, sdk_version,
        max_thread_model, reserved0,
        load, unload, config, config_complete, thread_model, get_ready, after_fork, cleanup,
        preconnect, list_exports, default_export,
        open, close, prepare, finalize,
        get_size, export_description, block_size, can_write, can_flush, is_rotational,
        can_trim, can_zero, can_fast_zero, can_extents, can_fua, can_multi_conn, can_cache,
        pread, pwrite, flush, trim, zero, extents, cache,
    )
}

/// Integer constants the C program prints, with the Rust values.
fn constants() -> Vec<(&'static str, i64)> {
    use crate::errno::*;
    vec![
        (
            "NBDKIT_RUST_ABI_MAJOR",
            i64::from(ffi::NBDKIT_RUST_ABI_MAJOR),
        ),
        (
            "NBDKIT_RUST_ABI_MINOR",
            i64::from(ffi::NBDKIT_RUST_ABI_MINOR),
        ),
        (
            "NBDKIT_RUST_HOST_V1_MIN_SIZE",
            ffi::NBDKIT_RUST_HOST_V1_MIN_SIZE as i64,
        ),
        (
            "NBDKIT_RUST_PLUGIN_V1_MIN_SIZE",
            ffi::NBDKIT_RUST_PLUGIN_V1_MIN_SIZE as i64,
        ),
        (
            "NBDKIT_RUST_HOST_V1_1_MIN_SIZE",
            ffi::NBDKIT_RUST_HOST_V1_1_MIN_SIZE as i64,
        ),
        (
            "NBDKIT_RUST_FILTER_V1_MIN_SIZE",
            ffi::NBDKIT_RUST_FILTER_V1_MIN_SIZE as i64,
        ),
        (
            "sizeof_socklen_t",
            std::mem::size_of::<ffi::socklen_t>() as i64,
        ),
        ("EPERM", EPERM.into()),
        ("ENOENT", ENOENT.into()),
        ("EINTR", EINTR.into()),
        ("EIO", EIO.into()),
        ("ENXIO", ENXIO.into()),
        ("EBADF", EBADF.into()),
        ("EAGAIN", EAGAIN.into()),
        ("ENOMEM", ENOMEM.into()),
        ("EACCES", EACCES.into()),
        ("EFAULT", EFAULT.into()),
        ("EBUSY", EBUSY.into()),
        ("EEXIST", EEXIST.into()),
        ("ENODEV", ENODEV.into()),
        ("ENOTDIR", ENOTDIR.into()),
        ("EISDIR", EISDIR.into()),
        ("EINVAL", EINVAL.into()),
        ("EMFILE", EMFILE.into()),
        ("EFBIG", EFBIG.into()),
        ("ENOSPC", ENOSPC.into()),
        ("ESPIPE", ESPIPE.into()),
        ("EROFS", EROFS.into()),
        ("ERANGE", ERANGE.into()),
        ("ENOSYS", ENOSYS.into()),
        ("ENODATA", ENODATA.into()),
        ("EOVERFLOW", EOVERFLOW.into()),
        ("EOPNOTSUPP", EOPNOTSUPP.into()),
        ("ENOTSUP", ENOTSUP.into()),
        ("ESHUTDOWN", ESHUTDOWN.into()),
        ("ETIMEDOUT", ETIMEDOUT.into()),
        ("ECONNREFUSED", ECONNREFUSED.into()),
        ("EDQUOT", EDQUOT.into()),
        ("ECANCELED", ECANCELED.into()),
    ]
}

/// nbdkit's own constants, checked when `<nbdkit-plugin.h>` and
/// `<nbdkit-filter.h>` (NBDKIT_ZERO_*) are there.
fn nbdkit_constants() -> Vec<(&'static str, i64)> {
    use crate::{CacheFlags, ExtentType, Flags, FuaFlags, ThreadModel, ZeroMode};
    vec![
        ("NBDKIT_FLAG_MAY_TRIM", Flags::MAY_TRIM.bits().into()),
        ("NBDKIT_FLAG_FUA", Flags::FUA.bits().into()),
        ("NBDKIT_FLAG_REQ_ONE", Flags::REQ_ONE.bits().into()),
        ("NBDKIT_FLAG_FAST_ZERO", Flags::FAST_ZERO.bits().into()),
        ("NBDKIT_FUA_NONE", i32::from(FuaFlags::None).into()),
        ("NBDKIT_FUA_EMULATE", i32::from(FuaFlags::Emulate).into()),
        ("NBDKIT_FUA_NATIVE", i32::from(FuaFlags::Native).into()),
        ("NBDKIT_CACHE_NONE", i32::from(CacheFlags::None).into()),
        (
            "NBDKIT_CACHE_EMULATE",
            i32::from(CacheFlags::Emulate).into(),
        ),
        ("NBDKIT_CACHE_NATIVE", i32::from(CacheFlags::Native).into()),
        ("NBDKIT_ZERO_NONE", i32::from(ZeroMode::None).into()),
        ("NBDKIT_ZERO_EMULATE", i32::from(ZeroMode::Emulate).into()),
        ("NBDKIT_ZERO_NATIVE", i32::from(ZeroMode::Native).into()),
        ("NBDKIT_EXTENT_HOLE", u32::from(ExtentType::Hole).into()),
        ("NBDKIT_EXTENT_ZERO", u32::from(ExtentType::Zero).into()),
        (
            "NBDKIT_THREAD_MODEL_SERIALIZE_CONNECTIONS",
            i32::from(ThreadModel::SerializeConnections).into(),
        ),
        (
            "NBDKIT_THREAD_MODEL_SERIALIZE_ALL_REQUESTS",
            i32::from(ThreadModel::SerializeAllRequests).into(),
        ),
        (
            "NBDKIT_THREAD_MODEL_SERIALIZE_REQUESTS",
            i32::from(ThreadModel::SerializeRequests).into(),
        ),
        (
            "NBDKIT_THREAD_MODEL_PARALLEL",
            i32::from(ThreadModel::Parallel).into(),
        ),
    ]
}

/// The C program: one `name value` line per number.
fn c_program(layouts: &[Layout]) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n\
         #include <stddef.h>\n\
         #include <errno.h>\n\
         #include \"nbdkit-rust-abi.h\"\n\
         #if __has_include(<nbdkit-plugin.h>)\n\
         #define NBDKIT_API_VERSION 2\n\
         #include <nbdkit-plugin.h>\n\
         #define HAVE_NBDKIT_PLUGIN_H 1\n\
         #endif\n\
         #if __has_include(<nbdkit-filter.h>)\n\
         #include <nbdkit-filter.h>\n\
         #else\n\
         #undef HAVE_NBDKIT_PLUGIN_H\n\
         #endif\n\
         #define P(name, value) printf (\"%s %lld\\n\", name, (long long) (value))\n\
         int main (void) {\n",
    );
    for (ty, _, _, fields) in layouts {
        c.push_str(&format!(
            "  P (\"{ty}.sizeof\", sizeof (struct {ty}));\n",
            ty = ty
        ));
        c.push_str(&format!(
            "  P (\"{ty}.alignof\", __alignof__ (struct {ty}));\n",
            ty = ty
        ));
        for (field, _) in fields {
            c.push_str(&format!(
                "  P (\"{ty}.{f}.offset\", offsetof (struct {ty}, {f}));\n\
                 \x20 P (\"{ty}.{f}.size\", sizeof (((struct {ty} *) 0)->{f}));\n\
                 \x20 P (\"{ty}.{f}.align\", __alignof__ (((struct {ty} *) 0)->{f}));\n",
                ty = ty,
                f = field
            ));
        }
    }
    for (name, _) in constants() {
        if name == "sizeof_socklen_t" {
            c.push_str("  P (\"sizeof_socklen_t\", sizeof (socklen_t));\n");
        } else {
            c.push_str(&format!("  P (\"{n}\", {n});\n", n = name));
        }
    }
    c.push_str("  printf (\"SYMBOL %s\\n\", NBDKIT_RUST_PLUGIN_V1_SYMBOL);\n");
    c.push_str("  printf (\"FILTER_SYMBOL %s\\n\", NBDKIT_RUST_FILTER_V1_SYMBOL);\n");
    c.push_str("#ifdef HAVE_NBDKIT_PLUGIN_H\n");
    for (name, _) in nbdkit_constants() {
        c.push_str(&format!("  P (\"{n}\", {n});\n", n = name));
    }
    c.push_str("#endif\n  return 0;\n}\n");
    c
}

/// Compile and run the C program against the crate's copy of the
/// header; its output as a map.
fn run_c(source: &str) -> BTreeMap<String, String> {
    // The crate's abi/ is the repository's header (a symlink there, a
    // copy in the packaged crate).
    let abi_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("abi");
    assert!(
        abi_dir.join("nbdkit-rust-abi.h").exists(),
        "no header in {:?}",
        abi_dir
    );
    c_probe::run("layout", source, &[&abi_dir])
}

fn get(c: &BTreeMap<String, String>, key: &str) -> i64 {
    c.get(key)
        .unwrap_or_else(|| panic!("the C program printed no {}", key))
        .parse()
        .unwrap()
}

#[test]
fn ffi_matches_the_header() {
    let layouts = [host_layout(), plugin_layout(), filter_layout()];
    let c = run_c(&c_program(&layouts));
    for (ty, size, align, fields) in &layouts {
        assert_eq!(
            get(&c, &format!("{}.sizeof", ty)),
            *size as i64,
            "sizeof {}",
            ty
        );
        assert_eq!(
            get(&c, &format!("{}.alignof", ty)),
            *align as i64,
            "alignof {}",
            ty
        );
        for (field, (offset, fsize, falign)) in fields {
            let key = |what: &str| format!("{}.{}.{}", ty, field, what);
            assert_eq!(get(&c, &key("offset")), *offset as i64, "{}", key("offset"));
            assert_eq!(get(&c, &key("size")), *fsize as i64, "{}", key("size"));
            assert_eq!(get(&c, &key("align")), *falign as i64, "{}", key("align"));
        }
        // The fields listed tile the struct with only the padding their
        // alignment needs, so no field of the header is missing here.
        let mut end = 0;
        for (field, (offset, fsize, falign)) in fields {
            let aligned = (end + falign - 1) / falign * falign;
            assert_eq!(*offset, aligned, "a gap before {}.{}", ty, field);
            end = offset + fsize;
        }
        assert_eq!(
            (end + align - 1) / align * align,
            *size,
            "a gap at the end of {}",
            ty
        );
    }
    for (name, value) in constants() {
        assert_eq!(get(&c, name), value, "{}", name);
    }
    assert_eq!(
        c.get("SYMBOL").map(String::as_str),
        Some(ffi::NBDKIT_RUST_PLUGIN_V1_SYMBOL)
    );
    assert_eq!(
        c.get("FILTER_SYMBOL").map(String::as_str),
        Some(ffi::NBDKIT_RUST_FILTER_V1_SYMBOL)
    );
    if c.contains_key("NBDKIT_FLAG_FUA") {
        for (name, value) in nbdkit_constants() {
            assert_eq!(get(&c, name), value, "{}", name);
        }
    } else {
        eprintln!("<nbdkit-plugin.h> not installed: nbdkit's own constants not checked");
    }
}

#[test]
fn min_sizes_end_at_the_last_v1_field() {
    // The host table grew in ABI 1.1: its 1.0 part ends at free, the
    // part filters need at context_set_next, its last field.
    let (_, size, _, fields) = host_layout();
    let (_, (offset, fsize, _)) = fields.iter().find(|(f, _)| *f == "free").unwrap();
    assert_eq!(ffi::NBDKIT_RUST_HOST_V1_MIN_SIZE, offset + fsize);
    let (offset, fsize, _) = fields.last().unwrap().1;
    assert_eq!(fields.last().unwrap().0, "context_set_next");
    assert_eq!(ffi::NBDKIT_RUST_HOST_V1_1_MIN_SIZE, offset + fsize);
    assert_eq!(ffi::NBDKIT_RUST_HOST_V1_1_MIN_SIZE, size);
    // The filter descriptor is all ABI 1.1: it ends at cache.
    let (_, size, _, fields) = filter_layout();
    let (offset, fsize, _) = fields.last().unwrap().1;
    assert_eq!(fields.last().unwrap().0, "cache");
    assert_eq!(ffi::NBDKIT_RUST_FILTER_V1_MIN_SIZE, offset + fsize);
    assert_eq!(ffi::NBDKIT_RUST_FILTER_V1_MIN_SIZE, size);
    // The descriptor grew in ABI 1.1: its 1.0 part ends at cache.
    let (_, size, _, fields) = plugin_layout();
    let (_, (offset, fsize, _)) = fields.iter().find(|(f, _)| *f == "cache").unwrap();
    assert_eq!(ffi::NBDKIT_RUST_PLUGIN_V1_MIN_SIZE, offset + fsize);
    let (offset, fsize, _) = fields.last().unwrap().1;
    assert_eq!(fields.last().unwrap().0, "dump_plugin_checked");
    assert_eq!(offset + fsize, size);
    assert_eq!(
        size,
        ffi::NBDKIT_RUST_PLUGIN_V1_MIN_SIZE + 2 * std::mem::size_of::<usize>()
    );
}
