# SPDX-License-Identifier: BSD-2-Clause
# How nbdkit-rust is installed, beyond the loaders and the header: the
# manual pages nbdkit-rust-plugin(3) and nbdkit-rust-filter(3), the
# pkg-config file nbdkit-rust.pc, and the example plugins and filters
# where the loaders find them by name.  The distribution packages are
# debian/ and rpm/nbdkit-rust.spec, built from what this installs.

# The ABI version, read from the header that defines it.
file (STRINGS ${ABI_INCLUDE_DIR}/nbdkit-rust-abi.h ABI_DEFINES
      REGEX "^#define NBDKIT_RUST_ABI_(MAJOR|MINOR) ")
string (REGEX REPLACE ".*MAJOR ([0-9]+).*" "\\1" ABI_MAJOR "${ABI_DEFINES}")
string (REGEX REPLACE ".*MINOR ([0-9]+).*" "\\1" ABI_MINOR "${ABI_DEFINES}")

# --- The manual page, from POD as nbdkit makes its own.

add_subdirectory (docs)

# --- pkg-config.
#
# The installed file finds the header relative to itself (pcfiledir),
# so the same file is right for `cmake --install` (/usr/local) and for
# the distribution packages (/usr).  The build tree gets an -uninstalled
# variant pointing at the source tree's header: pkg-config prefers it
# when PKG_CONFIG_PATH includes build/pkgconfig.

# The libdir and includedir may be given relative to the prefix or
# absolute (rpm's %cmake gives them absolute).
set (PKGCONFIG_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file (RELATIVE_PATH PC_RELATIVE_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
      ${CMAKE_INSTALL_PREFIX})
string (REGEX REPLACE "/$" "" PC_RELATIVE_PREFIX "${PC_RELATIVE_PREFIX}")
set (PC_PREFIX "\${pcfiledir}/${PC_RELATIVE_PREFIX}")
file (RELATIVE_PATH PC_RELATIVE_INCLUDEDIR ${CMAKE_INSTALL_PREFIX}
      ${CMAKE_INSTALL_FULL_INCLUDEDIR})
set (PC_INCLUDEDIR "\${prefix}/${PC_RELATIVE_INCLUDEDIR}")
configure_file (cmake/nbdkit-rust.pc.in
                ${CMAKE_CURRENT_BINARY_DIR}/nbdkit-rust.pc @ONLY)
install (FILES ${CMAKE_CURRENT_BINARY_DIR}/nbdkit-rust.pc
         DESTINATION ${PKGCONFIG_INSTALL_DIR})

set (PC_PREFIX ${CMAKE_CURRENT_SOURCE_DIR})
set (PC_INCLUDEDIR ${ABI_INCLUDE_DIR})
set (PKGCONFIG_UNINSTALLED_DIR ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig)
configure_file (cmake/nbdkit-rust.pc.in
                ${PKGCONFIG_UNINSTALLED_DIR}/nbdkit-rust-uninstalled.pc @ONLY)

# --- The example plugins and filters, installed by name.
#
# `nbdkit rust ramdisk` loads RUST_PLUGINDIR/libramdisk.so, and
# `rust-filter=swab` RUST_FILTERDIR/libswab.so (loader/names.c): the
# example plugins under the names cargo gives them, the example filters
# under their filters' names (the crates are filter-NAME, to tell them
# from the plugins in the workspace).  debian/ and rpm/ package them.

foreach (plugin ramdisk filedisk)
  install (FILES ${RUST_OUT_DIR}/lib${plugin}.so
           DESTINATION ${RUST_PLUGINDIR} COMPONENT examples)
endforeach ()
foreach (filter cow offset partition passthrough swab)
  install (FILES ${RUST_OUT_DIR}/libfilter_${filter}.so
           DESTINATION ${RUST_FILTERDIR} RENAME lib${filter}.so
           COMPONENT examples)
endforeach ()
