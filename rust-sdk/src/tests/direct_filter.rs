// SPDX-License-Identifier: BSD-2-Clause
//! The filter services of the host table a plugin loaded directly
//! fills (`direct_host_filter.rs`): stubs that refuse, and nbdkit's
//! list functions, two of them through wrappers (nbdkit_get_extent and
//! nbdkit_get_export return a struct by value).

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Mutex, PoisonError};

use super::direct::turn;
use crate::direct_host::host_table;
use crate::errno::ENOTSUP;
use crate::ffi::{nbdkit_exports, nbdkit_extents};

static SET_ERRORS: Mutex<Vec<c_int>> = Mutex::new(Vec::new());

fn take_set_errors() -> Vec<c_int> {
    std::mem::take(&mut *SET_ERRORS.lock().unwrap_or_else(PoisonError::into_inner))
}

unsafe extern "C" fn fake_set_error(err: c_int) {
    SET_ERRORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(err);
}

/// `struct nbdkit_extent`, as nbdkit returns it.
#[repr(C)]
struct Extent {
    offset: u64,
    length: u64,
    type_: u32,
}

/// `struct nbdkit_export`, as nbdkit returns it.
#[repr(C)]
struct Export {
    name: *const c_char,
    description: *const c_char,
}

/// Every list has two entries here.
unsafe extern "C" fn fake_count(_list: *const c_void) -> usize {
    2
}

unsafe extern "C" fn fake_get_extent(_list: *const nbdkit_extents, i: usize) -> Extent {
    assert!(i < 2, "nbdkit_get_extent aborts past the end");
    Extent {
        offset: 10 * i as u64,
        length: 10,
        type_: 3,
    }
}

unsafe extern "C" fn fake_get_export(_list: *const nbdkit_exports, i: usize) -> Export {
    assert!(i < 2, "nbdkit_get_export aborts past the end");
    Export {
        name: b"disk\0".as_ptr().cast(),
        description: ptr::null(),
    }
}

fn lookup(symbol: &'static str) -> *mut c_void {
    match symbol {
        "nbdkit_set_error\0" => fake_set_error as unsafe extern "C" fn(c_int) as *mut c_void,
        "nbdkit_extents_count\0" | "nbdkit_exports_count\0" => {
            fake_count as unsafe extern "C" fn(*const c_void) -> usize as *mut c_void
        }
        "nbdkit_get_extent\0" => {
            fake_get_extent as unsafe extern "C" fn(*const nbdkit_extents, usize) -> Extent
                as *mut c_void
        }
        "nbdkit_get_export\0" => {
            fake_get_export as unsafe extern "C" fn(*const nbdkit_exports, usize) -> Export
                as *mut c_void
        }
        _ => ptr::null_mut(),
    }
}

#[test]
fn the_filter_services_refuse_with_enotsup() {
    let _turn = turn();
    let host = host_table(&lookup);
    take_set_errors();
    let mut err: c_int = 0;
    // SAFETY: the table's stubs, with NULLs they never read and a
    // writable errno.
    unsafe {
        assert_eq!(host.next_get_size.unwrap()(ptr::null_mut()), -1);
        assert_eq!(
            host.next_pread.unwrap()(ptr::null_mut(), ptr::null_mut(), 1, 0, 0, &mut err),
            -1
        );
        assert!(host.next_default_export.unwrap()(ptr::null_mut(), 0).is_null());
        assert!(host.context_get_backend.unwrap()(ptr::null_mut()).is_null());
        assert!(host.extents_full.unwrap()(ptr::null_mut(), 1, 0, 0, ptr::null_mut()).is_null());
        host.next_context_close.unwrap()(ptr::null_mut());
    }
    assert_eq!(err, ENOTSUP);
    assert_eq!(take_set_errors(), vec![ENOTSUP; 6]);
}

#[test]
fn get_extent_and_get_export_wrap_nbdkits() {
    let _turn = turn();
    let host = host_table(&lookup);
    let (mut offset, mut length, mut type_) = (0u64, 0u64, 0u32);
    let (mut name, mut description): (*const c_char, *const c_char) = (ptr::null(), ptr::null());
    // SAFETY: the wrappers over the fakes above, which never read the
    // lists, with writable slots.
    unsafe {
        let get_extent = host.get_extent.unwrap();
        assert_eq!(
            get_extent(ptr::null(), 1, &mut offset, &mut length, &mut type_),
            0
        );
        assert_eq!((offset, length, type_), (10, 10, 3));
        assert_eq!(
            get_extent(ptr::null(), 2, &mut offset, &mut length, &mut type_),
            -1
        );
        let get_export = host.get_export.unwrap();
        assert_eq!(get_export(ptr::null(), 0, &mut name, &mut description), 0);
        assert_eq!(CStr::from_ptr(name).to_str().unwrap(), "disk");
        assert!(description.is_null());
        assert_eq!(get_export(ptr::null(), 5, &mut name, &mut description), -1);
    }
    // Without nbdkit's functions: absent.
    let host = host_table(&|_| ptr::null_mut());
    assert!(host.get_extent.is_none() && host.get_export.is_none());
}
