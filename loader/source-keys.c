/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the keys that say how a plugin given as source is built.
 *
 * rust-profile, rust-rustc, rust-cargo, rust-sdk and rust-registry
 * belong to the loader, never to the plugin, and apply to every build
 * (startup and rust-reload alike).
 */

#define _GNU_SOURCE 1           /* dladdr */

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source.h"

struct rust_source_options rust_source_options;

/* Store VALUE in *P, replacing what a previous key gave. */
static int
set (char **p, const char *key, const char *value)
{
  if (value[0] == '\0') {
    nbdkit_error ("%s= must not be empty", key);
    return -1;
  }
  free (*p);
  *p = strdup (value);
  if (*p == NULL) {
    nbdkit_error ("strdup: %m");
    return -1;
  }
  return 0;
}

/* 1 if KEY is one of these keys (and VALUE was taken), 0 if it is not,
 * -1 after an error.
 */
int
rust_source_config (const char *key, const char *value)
{
  struct rust_source_options *o = &rust_source_options;

  if (strcmp (key, "rust-profile") == 0) {
    if (strcmp (value, "release") == 0)
      o->debug = false;
    else if (strcmp (value, "debug") == 0)
      o->debug = true;
    else {
      nbdkit_error ("rust-profile=%s: not a profile (release or debug)",
                    value);
      return -1;
    }
    return 1;
  }
  if (strcmp (key, "rust-rustc") == 0)
    return set (&o->rustc, key, value) == -1 ? -1 : 1;
  if (strcmp (key, "rust-cargo") == 0)
    return set (&o->cargo, key, value) == -1 ? -1 : 1;
  if (strcmp (key, "rust-sdk") == 0)
    return set (&o->sdk, key, value) == -1 ? -1 : 1;
  if (strcmp (key, "rust-registry") == 0)
    return set (&o->registry, key, value) == -1 ? -1 : 1;
  return 0;
}

void
rust_source_options_free (void)
{
  struct rust_source_options *o = &rust_source_options;

  free (o->rustc);
  free (o->cargo);
  free (o->sdk);
  free (o->registry);
  memset (o, 0, sizeof *o);
}

const char *
rust_source_profile (void)
{
  return rust_source_options.debug ? "debug" : "release";
}

/* Whether this loader runs from the CMake build tree it was built in:
 * then plugins are built against the checkout's SDK, so that a change
 * to rust-sdk/ is tested without installing it.
 */
#ifdef RUST_LOADER_BUILD_DIR
static bool
in_build_tree (void)
{
  char build[PATH_MAX], self[PATH_MAX];
  Dl_info info;
  size_t n;

  if (dladdr ((void *) in_build_tree, &info) == 0 || info.dli_fname == NULL)
    return false;
  if (realpath (info.dli_fname, self) == NULL ||
      realpath (RUST_LOADER_BUILD_DIR, build) == NULL)
    return false;
  n = strlen (build);
  return strncmp (self, build, n) == 0 && self[n] == '/';
}
#else
/* Built for a package (BUILD_TESTING=OFF): there is no build tree. */
static bool
in_build_tree (void)
{
  return false;
}
#define RUST_SDK_SOURCE_DIR NULL
#endif

/* The SDK's source directory (rust-sdk=, else the checkout's or the
 * installed crate), absolute; NULL after an error.
 */
char *
rust_source_sdk_dir (void)
{
  const char *dir = rust_source_options.sdk;
  const char *why = "rust-sdk=";
  char *r, *manifest;
  struct stat st;

  if (dir == NULL) {
    if (in_build_tree ()) {
      dir = RUST_SDK_SOURCE_DIR;
      why = "the loader runs from its build tree, so the checkout's SDK";
    }
    else {
      dir = RUST_SDK_INSTALL_DIR;
      why = "the installed SDK";
    }
  }
  if (asprintf (&manifest, "%s/Cargo.toml", dir) == -1) {
    nbdkit_error ("asprintf: %m");
    return NULL;
  }
  if (stat (manifest, &st) == -1 || !S_ISREG (st.st_mode)) {
    nbdkit_error ("%s: not the nbdkit crate's source (no Cargo.toml) "
                  "(%s): install the nbdkit crate there or give "
                  "rust-sdk=DIR", dir, why);
    free (manifest);
    return NULL;
  }
  free (manifest);
  r = nbdkit_realpath (dir);
  return r;
}

/* The registry for ```cargo blocks, or NULL for none. */
const char *
rust_source_registry (void)
{
  const char *r = rust_source_options.registry;
  struct stat st;

  if (r)
    return strcmp (r, "none") == 0 ? NULL : r;
  if (stat (RUST_REGISTRY_DIR, &st) == 0 && S_ISDIR (st.st_mode))
    return RUST_REGISTRY_DIR;
  return NULL;
}
