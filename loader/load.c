/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: loading one build of a Rust plugin.
 *
 * A build is the file checked (file-check.c), dlopen()ed, its
 * descriptor validated (descriptor.c) and its load callback called.
 * Every refusal is an nbdkit_error naming the file as the user gave it
 * and the reason, and the caller returns -1, so nbdkit exits with
 * status 1 instead of crashing on a bad file.
 */

#include <dlfcn.h>
#include <inttypes.h>
#include <stdlib.h>

#include "rust-loader.h"

/* Numbers the builds in load order (see struct rust_build). */
static unsigned last_build_number;

/* Open the library FILE and ask it for its descriptor, which is copied
 * into *PLUGIN.  Returns the dlopen handle, or NULL after an error.
 */
static void *
open_plugin (const char *path, const char *file,
             struct nbdkit_rust_plugin *plugin)
{
  nbdkit_rust_plugin_v1_fn init;
  const struct nbdkit_rust_plugin *d;
  void *dl;

  dl = dlopen (file, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    nbdkit_error ("%s: cannot load the plugin: %s", path, dlerror ());
    return NULL;
  }

  init = (nbdkit_rust_plugin_v1_fn) dlsym (dl, NBDKIT_RUST_PLUGIN_V1_SYMBOL);
  if (init == NULL) {
    nbdkit_error ("%s: not a Rust nbdkit plugin: it does not export "
                  NBDKIT_RUST_PLUGIN_V1_SYMBOL " (build it with the nbdkit "
                  "crate's plugin! macro)", path);
    goto err;
  }

  d = init (&rust_host);
  if (d == NULL) {
    nbdkit_error ("%s: the plugin failed to initialise "
                  "(" NBDKIT_RUST_PLUGIN_V1_SYMBOL " returned NULL)", path);
    goto err;
  }

  if (rust_descriptor_accept (path, d, plugin) == -1)
    goto err;
  return dl;

 err:
  dlclose (dl);
  return NULL;
}

/* The plugin's load callback.  Returns 0, or -1 if it failed. */
static int
call_load (const struct rust_build *build, const char *path)
{
  const struct nbdkit_rust_plugin *p = &build->plugin;

  /* ABI 1.1: a load that can fail (a panic in the Rust plugin's load,
   * for one); its ABI 1.0 twin is not called then.
   */
  if (p->load_checked) {
    if (p->load_checked () == -1) {
      nbdkit_error ("%s: the plugin's load failed (build %u)",
                    path, build->number);
      return -1;
    }
    return 0;
  }
  /* Mirrors nbdkit: a plugin without load has nothing to do. */
  if (p->load)
    p->load ();
  return 0;
}

/* Load the Rust plugin at PATH (as the user gave it) from FILE, a copy
 * of it (COPIED) or the library built from it (source.c).
 */
static struct rust_build *
load (const char *path, const char *file, bool copied)
{
  struct rust_build *build;
  char callbacks[RUST_CALLBACKS_MAX];

  if (rust_file_check (path, file ? file : path, copied) == -1)
    return NULL;

  build = calloc (1, sizeof *build);
  if (build == NULL) {
    nbdkit_error ("calloc: %m");
    return NULL;
  }

  /* nbdkit chdir()s to / when it forks, so keep the path absolute. */
  build->path = nbdkit_realpath (path);
  if (build->path == NULL)
    goto err;

  build->dl = open_plugin (path, file ? file : build->path, &build->plugin);
  if (build->dl == NULL)
    goto err;

  build->number = ++last_build_number;
  build->refs = 1;
  nbdkit_debug ("loaded Rust plugin %s (build %u) from %s%s%s: ABI %" PRIu32
                ".%" PRIu32 ", SDK %s",
                build->plugin.name, build->number, build->path,
                file ? (copied ? ", private copy " : ", built library ")
                : "", file ? file : "",
                build->plugin.abi_major, build->plugin.abi_minor,
                build->plugin.sdk_version ? build->plugin.sdk_version : "?");
  nbdkit_debug ("Rust plugin %s (build %u) registers callbacks: %s",
                build->plugin.name, build->number,
                rust_descriptor_callbacks (&build->plugin, callbacks));

  /* A plugin whose load failed never started: it is unmapped without
   * its unload, which is the pair of a load that succeeded.
   */
  if (call_load (build, path) == -1) {
    dlclose (build->dl);
    goto err;
  }
  return build;

 err:
  free (build->path);
  free (build);
  return NULL;
}

/* Load the Rust plugin at PATH (as the user gave it) and call its load
 * callback.  FILE is what to map: a private copy of PATH (copy.c), or
 * NULL for PATH itself.  Returns the new build, or NULL after an
 * error.
 */
struct rust_build *
rust_build_load (const char *path, const char *file)
{
  return load (path, file, file != NULL);
}

/* Load the library LIB built from the source PATH (source.c), which
 * messages name.
 */
struct rust_build *
rust_build_load_built (const char *path, const char *lib)
{
  return load (path, lib, false);
}

/* Call the plugin's unload, then unmap it. */
void
rust_build_unload (struct rust_build *build)
{
  /* Mirrors nbdkit: a plugin without unload has nothing to do. */
  if (build->plugin.unload)
    build->plugin.unload ();
  dlclose (build->dl);
  free (build->path);
  free (build);
}

/* The thread model BUILD asks for once configured: its
 * max_thread_model, or a stricter one chosen by its thread_model
 * callback (never a looser one).  -1 if the callback failed.
 */
int
rust_build_thread_model (const struct rust_build *build)
{
  const struct nbdkit_rust_plugin *p = &build->plugin;
  int model = p->max_thread_model;

  if (p->thread_model) {
    int r = p->thread_model ();

    if (r == -1)
      return -1;
    if (r < model)
      model = r;
  }
  return model;
}
