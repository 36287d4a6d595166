# SPDX-License-Identifier: BSD-2-Clause
# The SDK crate `nbdkit`, installed where the distribution's Rust
# crates live (RUST_SDK_INSTALL_DIR, /usr/share/cargo/registry/
# nbdkit-VERSION), laid out as Debian's librust-*-dev packages lay
# theirs: the crate as `cargo package` ships it (its normalised
# Cargo.toml, and real files where rust-sdk/ has symbolic links into
# the repository), and a .cargo-checksum.json with the checksum of the
# .crate and no per-file sums.  So that the registry directory is a
# cargo directory source in which `nbdkit = "VERSION"` resolves
# offline, and so that the loader compiles plugins from source against
# it.
#
# Included from the top CMakeLists.txt, this adds the build step and
# the install rule; the build step runs this same file as a script
# (cmake -P) with CARGO, SOURCE_DIR, WORK_DIR and CRATE_DIR set.

if (NOT CMAKE_SCRIPT_MODE_FILE)
  set (SDK_CRATE_WORK_DIR ${CMAKE_BINARY_DIR}/sdk-crate)
  set (SDK_CRATE_DIR ${SDK_CRATE_WORK_DIR}/nbdkit-${NBDKIT_SDK_VERSION})
  # What cargo package reads: rust-sdk/ (its links into abi/ too).
  file (GLOB_RECURSE SDK_CRATE_SOURCES CONFIGURE_DEPENDS
        ${CMAKE_SOURCE_DIR}/rust-sdk/*.rs ${CMAKE_SOURCE_DIR}/rust-sdk/*.md)
  list (APPEND SDK_CRATE_SOURCES
        ${CMAKE_SOURCE_DIR}/rust-sdk/Cargo.toml
        ${CMAKE_SOURCE_DIR}/abi/nbdkit-rust-abi.h
        ${CMAKE_SOURCE_DIR}/abi/nbdkit-defaults.tsv
        ${CMAKE_SOURCE_DIR}/LICENSE)
  add_custom_command (
    OUTPUT ${SDK_CRATE_DIR}/.cargo-checksum.json
    COMMAND ${CMAKE_COMMAND} -DCARGO=${CARGO}
            -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DWORK_DIR=${SDK_CRATE_WORK_DIR}
            -DCRATE_DIR=${SDK_CRATE_DIR} -P ${CMAKE_CURRENT_LIST_FILE}
    DEPENDS ${SDK_CRATE_SOURCES} ${CMAKE_CURRENT_LIST_FILE}
    COMMENT "Packaging the SDK crate nbdkit ${NBDKIT_SDK_VERSION} (cargo package)"
    VERBATIM)
  add_custom_target (sdk-crate ALL
                     DEPENDS ${SDK_CRATE_DIR}/.cargo-checksum.json)

  # Sources are read-only data there, as in Debian's packages.
  install (DIRECTORY ${SDK_CRATE_DIR}/
           DESTINATION ${RUST_SDK_INSTALL_DIR}
           FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
           DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                                 GROUP_READ GROUP_EXECUTE
                                 WORLD_READ WORLD_EXECUTE
           COMPONENT sdk)
  return ()
endif ()

# --- Script mode: package the crate into CRATE_DIR.

# Offline: the crate has no dependencies, and the workspace's are all
# path dependencies.  Not verified here (that is a build of the crate):
# the workspace build and cargo test build it.
set (ENV{CARGO_TARGET_DIR} ${WORK_DIR}/target)
execute_process (
  COMMAND ${CARGO} package -p nbdkit --no-verify --offline --allow-dirty
  WORKING_DIRECTORY ${SOURCE_DIR}
  RESULT_VARIABLE status)
if (NOT status EQUAL 0)
  message (FATAL_ERROR "cargo package -p nbdkit failed (${status})")
endif ()
get_filename_component (crate_name ${CRATE_DIR} NAME)
set (crate ${WORK_DIR}/target/package/${crate_name}.crate)
if (NOT EXISTS ${crate})
  message (FATAL_ERROR "${crate}: cargo package made no such file")
endif ()

# The .crate holds one directory, CRATE_NAME/.  The files get the time
# of extraction (dpkg clamps it to the changelog's date), not the one
# cargo gave what it generated, which may be before 1975.
file (REMOVE_RECURSE ${WORK_DIR}/unpacked ${CRATE_DIR})
file (MAKE_DIRECTORY ${WORK_DIR}/unpacked)
execute_process (
  COMMAND ${CMAKE_COMMAND} -E tar xzf ${crate} --touch
  WORKING_DIRECTORY ${WORK_DIR}/unpacked
  RESULT_VARIABLE status)
if (NOT status EQUAL 0 OR NOT IS_DIRECTORY ${WORK_DIR}/unpacked/${crate_name})
  message (FATAL_ERROR "${crate}: cannot unpack it into ${WORK_DIR}/unpacked")
endif ()
file (RENAME ${WORK_DIR}/unpacked/${crate_name} ${CRATE_DIR})

# As dh-cargo installs a crate: without the manifest as written (cargo
# uses the normalised one), the lock file (newer cargos put one in),
# or the commit of the tree it was packaged from.
file (REMOVE ${CRATE_DIR}/Cargo.toml.orig ${CRATE_DIR}/Cargo.lock
      ${CRATE_DIR}/.cargo_vcs_info.json)

# cargo's directory source needs the checksum file; "package" is the
# .crate's SHA-256 (what a registry's index records and a Cargo.lock
# pins), and "files" is empty, as Debian has it, so that cargo checks
# no file against a sum.
file (SHA256 ${crate} sum)
file (WRITE ${CRATE_DIR}/.cargo-checksum.json
      "{\"package\":\"${sum}\",\"files\":{}}\n")
