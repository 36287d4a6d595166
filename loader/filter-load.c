/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: loading the Rust filter of one --filter=rust.
 *
 * As for a plugin (load.c): the file is checked before dlopen() maps
 * it (file-check.c), the descriptor is validated
 * (filter-descriptor.c), then the filter's load is called.  Every
 * refusal is an nbdkit_error naming the file as the user gave it and
 * the reason; the caller returns -1 from config, so nbdkit exits with
 * status 1 before serving.
 *
 * A file already mapped in this process (by another --filter=rust, by
 * nbdkit rust, or by nbdkit itself) is mapped again from a private
 * copy (copy.c): dlopen() would hand back the mapping there is, and
 * the two would share the Rust side's statics (its host table and its
 * configuration among them).
 */

#include <dlfcn.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"

/* How many times a file still being written is looked at again,
 * RUST_SETTLE_MS apart, before its private copy is given up (as
 * rust-reload does at startup).
 */
#define COPY_TRIES 50

/* Whether FILE is mapped already.  RTLD_NOLOAD finds a loaded object
 * by its device and inode as well as by its name, so another name
 * (a symbolic link, a relative path) for the same file counts too.
 */
static bool
mapped_already (const char *file)
{
  void *dl = dlopen (file, RTLD_NOW | RTLD_NOLOAD);

  if (dl == NULL) {
    dlerror ();
    return false;
  }
  dlclose (dl);
  return true;
}

/* Copy the file at PATH into *COPY, waiting a while for a file still
 * being written (copy.c takes only a file that has settled).  Returns
 * 0, or -1 after an error.
 */
static int
make_copy (const char *path, struct rust_copy *copy)
{
  const struct timespec settle = {
    .tv_sec = RUST_SETTLE_MS / 1000,
    .tv_nsec = RUST_SETTLE_MS % 1000 * 1000000L,
  };
  struct rust_file_id id;
  unsigned tries;

  for (tries = 1; ; tries++) {
    switch (rust_copy_make (path, copy, &id)) {
    case RUST_COPY_MADE:
      return 0;
    case RUST_COPY_FAILED:
      return -1;
    case RUST_COPY_UNSETTLED:
    case RUST_COPY_CHANGED:
      break;
    }
    if (tries == COPY_TRIES) {
      nbdkit_error ("%s: the file is still being written: it kept changing "
                    "for %d ms", path, COPY_TRIES * RUST_SETTLE_MS);
      return -1;
    }
    nanosleep (&settle, NULL);
  }
}

/* dlopen() FILE, the Rust filter at PATH (as the user gave it), and
 * copy its descriptor into *FILTER.  Returns the dlopen handle, or
 * NULL after an error.
 */
static void *
open_filter (const char *path, const char *file,
             struct nbdkit_rust_filter *filter)
{
  nbdkit_rust_filter_v1_fn init;
  const struct nbdkit_rust_filter *d;
  void *dl;

  dl = dlopen (file, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    nbdkit_error ("%s: cannot load the filter: %s", path, dlerror ());
    return NULL;
  }

  init = (nbdkit_rust_filter_v1_fn) dlsym (dl, NBDKIT_RUST_FILTER_V1_SYMBOL);
  if (init == NULL) {
    /* Say what the library is when it is something else nbdkit-rust
     * or nbdkit serves: the fix is another command line.
     */
    if (dlsym (dl, NBDKIT_RUST_PLUGIN_V1_SYMBOL) != NULL)
      nbdkit_error ("%s: is a Rust plugin, not a filter: serve it with "
                    "nbdkit rust %s", path, path);
    else if (dlsym (dl, "filter_init") != NULL)
      nbdkit_error ("%s: is a C nbdkit filter, not a Rust filter: give it "
                    "to nbdkit as --filter=%s", path, path);
    else
      nbdkit_error ("%s: not a Rust nbdkit filter: it does not export "
                    NBDKIT_RUST_FILTER_V1_SYMBOL " (build it with the "
                    "nbdkit crate's filter! macro)", path);
    goto err;
  }

  d = init (&rust_filter_host);
  if (d == NULL) {
    nbdkit_error ("%s: the filter failed to initialise "
                  "(" NBDKIT_RUST_FILTER_V1_SYMBOL " returned NULL)", path);
    goto err;
  }

  if (rust_filter_descriptor_accept (path, d, filter) == -1)
    goto err;
  return dl;

 err:
  dlclose (dl);
  return NULL;
}

/* Load the Rust filter at PATH (as the user gave it) for INST, and
 * call its load.  Returns 0, or -1 after an error.
 */
int
rust_filter_instance_load (struct rust_filter_instance *inst,
                           const char *path)
{
  struct rust_copy copy = { .dir = NULL, .file = NULL };
  const struct nbdkit_rust_filter *f = &inst->filter;
  char callbacks[RUST_CALLBACKS_MAX];
  struct rust_source source;
  const char *file, *lib = path;
  int kind;

  /* A .rs file or a crate directory: the library built from it, in
   * the build cache (source.c).
   */
  kind = rust_source_kind (path);
  if (kind == -1)
    return -1;
  memset (&source, 0, sizeof source);
  if (kind != RUST_SOURCE_LIBRARY) {
    if (rust_source_build (path, kind, &source) == -1)
      return -1;
    lib = source.lib;
  }

  if (rust_file_check (path, lib, false) == -1) {
    rust_source_clear (&source);
    return -1;
  }
  /* nbdkit chdir()s to / when it forks: keep the path absolute. */
  inst->path = nbdkit_realpath (lib);
  rust_source_clear (&source);
  if (inst->path == NULL)
    return -1;

  file = inst->path;
  if (mapped_already (inst->path)) {
    if (make_copy (path, &copy) == -1)
      goto err;
    file = copy.file;
    inst->private_copy = true;
    if (rust_file_check (path, file, true) == -1)
      goto err;
  }
  inst->dl = open_filter (path, file, &inst->filter);
  /* Mapped or not, the copy goes now (see copy.c). */
  rust_copy_remove (&copy);
  if (inst->dl == NULL)
    goto err;
  inst->shared.filter = inst->filter;

  nbdkit_debug ("loaded Rust filter %s (--filter=rust number %u) from %s%s: "
                "ABI %" PRIu32 ".%" PRIu32 ", SDK %s",
                f->name, inst->number, inst->path,
                inst->private_copy ? " (a private copy: the file is mapped "
                "already)" : "",
                f->abi_major, f->abi_minor,
                f->sdk_version ? f->sdk_version : "?");
  nbdkit_debug ("Rust filter %s registers callbacks: %s", f->name,
                rust_filter_descriptor_callbacks (f, callbacks));

  /* Mirrors nbdkit: a filter without load has nothing to do.  One
   * whose load failed never started: it is unmapped without its
   * unload.
   */
  if (f->load && f->load () == -1) {
    nbdkit_error ("%s: the filter's load failed", path);
    dlclose (inst->dl);
    inst->dl = NULL;
    goto err;
  }
  return 0;

 err:
  rust_copy_remove (&copy);
  free (inst->path);
  inst->path = NULL;
  return -1;
}

/* Call the filter's unload, then unmap it. */
void
rust_filter_instance_unload (struct rust_filter_instance *inst)
{
  if (inst->dl == NULL)
    return;
  /* Mirrors nbdkit: a filter without unload has nothing to do. */
  if (inst->filter.unload)
    inst->filter.unload ();
  dlclose (inst->dl);
  inst->dl = NULL;
  free (inst->path);
  inst->path = NULL;
}

/* The thread model INST asks for once configured: its
 * max_thread_model, or a stricter one chosen by its thread_model
 * callback (never a looser one).  -1 if the callback failed.  Asked
 * once: nbdkit asks the loader once per instance, and each answer
 * covers them all (filter-instances.c).
 */
int
rust_filter_instance_thread_model (struct rust_filter_instance *inst)
{
  const struct nbdkit_rust_filter *f = &inst->filter;
  int model;

  if (inst->thread_model != -2)
    return inst->thread_model;

  model = f->max_thread_model;
  /* Mirrors nbdkit: without thread_model, the filter takes any model
   * (here, up to its max_thread_model).
   */
  if (f->thread_model) {
    int r = f->thread_model ();

    if (r == -1)
      return -1;
    if (r < model)
      model = r;
  }
  inst->thread_model = model;
  return model;
}
