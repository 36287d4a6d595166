# SPDX-License-Identifier: BSD-2-Clause
# How nbdkit-rust is installed and packaged, beyond the loader and the
# header: the manual page nbdkit-rust-plugin(3), the pkg-config file
# nbdkit-rust.pc, and a Debian package of all of it (cpack -G DEB).

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
# the Debian package (/usr).  The build tree gets an -uninstalled
# variant pointing at the source tree's header: pkg-config prefers it
# when PKG_CONFIG_PATH includes build/pkgconfig.

set (PKGCONFIG_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file (RELATIVE_PATH PC_RELATIVE_PREFIX /${PKGCONFIG_INSTALL_DIR} /)
string (REGEX REPLACE "/$" "" PC_RELATIVE_PREFIX "${PC_RELATIVE_PREFIX}")
set (PC_PREFIX "\${pcfiledir}/${PC_RELATIVE_PREFIX}")
set (PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
configure_file (cmake/nbdkit-rust.pc.in
                ${CMAKE_CURRENT_BINARY_DIR}/nbdkit-rust.pc @ONLY)
install (FILES ${CMAKE_CURRENT_BINARY_DIR}/nbdkit-rust.pc
         DESTINATION ${PKGCONFIG_INSTALL_DIR})

set (PC_PREFIX ${CMAKE_CURRENT_SOURCE_DIR})
set (PC_INCLUDEDIR ${ABI_INCLUDE_DIR})
set (PKGCONFIG_UNINSTALLED_DIR ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig)
configure_file (cmake/nbdkit-rust.pc.in
                ${PKGCONFIG_UNINSTALLED_DIR}/nbdkit-rust-uninstalled.pc @ONLY)

# --- The Debian package: cpack -G DEB in the build directory.
#
# Named as Debian names nbdkit's plugins (nbdkit-plugin-python, ...).
# It holds what `cmake --install` installs: the loader in nbdkit's
# plugin directory, the filter loader in its filter directory, the
# header, nbdkit-rust.pc and the manual pages.
# The loader is built against this nbdkit's headers, so the package
# needs at least this nbdkit.

set (CPACK_PACKAGE_NAME nbdkit-plugin-rust)
set (CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set (CPACK_PACKAGE_DESCRIPTION_SUMMARY
     "nbdkit Rust plugin loader: serve nbdkit plugins written in Rust")
set (CPACK_PACKAGE_CONTACT
     "nbdkit-rust maintainers <maintainers@nbdkit-rust.invalid>"
     CACHE STRING "The Maintainer field of the Debian package")
set (CPACK_PACKAGING_INSTALL_PREFIX /usr)
set (CPACK_STRIP_FILES ON)
set (CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set (CPACK_DEBIAN_PACKAGE_SECTION admin)
set (CPACK_DEBIAN_PACKAGE_DEPENDS "nbdkit (>= ${NBDKIT_VERSION})")
# nbdkit-rust.pc requires nbdkit.pc, which nbdkit-plugin-dev has.
set (CPACK_DEBIAN_PACKAGE_SUGGESTS "nbdkit-plugin-dev, pkg-config")
# Adds the C library the loader links against (dpkg-shlibdeps).
set (CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The long description; CPack puts the summary above it and indents it.
set (CPACK_DEBIAN_PACKAGE_DESCRIPTION
"nbdkit-rust-plugin.so is an nbdkit plugin that loads a plugin written in
Rust with the nbdkit crate and forwards every nbdkit callback to it
through a versioned C ABI:

 nbdkit rust ./libmyplugin.so [key=value ...]

nbdkit-rust-filter.so does the same for filters written in Rust:

 nbdkit --filter=rust PLUGIN ... rust-filter=./libmyfilter.so [key=value ...]

This package has both loaders, the ABI header nbdkit-rust-abi.h, its
pkg-config file nbdkit-rust.pc, and the manual pages nbdkit-rust-plugin(3)
and nbdkit-rust-filter(3).")
set (CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set (CPACK_GENERATOR DEB)
# Only the files installed, not the source tree.
set (CPACK_SOURCE_GENERATOR "")
include (CPack)
