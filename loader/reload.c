/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: rust-reload, a new build of the plugin for new
 * connections while the old one keeps serving the connections it has.
 *
 * With rust-reload=true, the first callback of each new connection
 * (builds.c) stats rust=PATH.  When the file differs from the one the
 * current build was copied from (device, inode, size, mtime or ctime),
 * the loader:
 *
 *   1. copies it into a private directory (copy.c), once it has not
 *      changed for a moment, and refuses the copy if the file changed
 *      while it was copied: a file still being written is never loaded;
 *   2. loads and validates the copy exactly as at startup (load.c),
 *      and removes the copy;
 *   3. gives it the recorded keys in order (config.c), then calls
 *      config_complete, thread_model (which must not ask for a model
 *      stricter than the one nbdkit fixed at startup), get_ready and
 *      after_fork;
 *   4. hands it to builds.c, which makes it current: this connection
 *      and later ones use it.
 *
 * If any step fails, an error names the reason and the running build
 * stays.  A file that failed is tried again once it changes; one that
 * is still being written, at a later connection.
 *
 * All of this runs under builds.c's lock, which every new connection
 * takes: nothing here may block on anything but the disk (copy.c and
 * file-check.c never open a FIFO or a device).
 */

#include <stdlib.h>
#include <time.h>

#include "rust-loader.h"

/* At startup, how many times a file still being written is looked at
 * again, RUST_SETTLE_MS apart, before giving up.
 */
#define STARTUP_TRIES 50

/* rust=PATH made absolute before nbdkit chdir()s to /.  Symbolic links
 * are kept, so that pointing a link at another build is a change too.
 */
static char *watch_path;

/* The thread model nbdkit fixed at startup: a new build may not ask
 * for a stricter one.
 */
static int server_thread_model = NBDKIT_THREAD_MODEL_PARALLEL;

/* The last file refused for good, not to be tried again unchanged. */
static struct rust_file_id refused_id;
static bool have_refused;

/* Copy the file at PATH and load the copy (load.c: checked, dlopen()ed,
 * validated, load called).  Returns the build, or NULL and why not.
 */
static struct rust_build *
load_copy (const char *path, struct rust_file_id *id,
           enum rust_copy_result *why)
{
  struct rust_copy copy;
  struct rust_build *build;

  *why = rust_copy_make (path, &copy, id);
  if (*why != RUST_COPY_MADE)
    return NULL;
  build = rust_build_load (path, copy.file);
  /* Mapped or not, the copy goes now (see copy.c). */
  rust_copy_remove (&copy);
  if (build == NULL) {
    *why = RUST_COPY_FAILED;
    return NULL;
  }
  build->id = *id;
  return build;
}

/* At startup, with rust-reload=true: build 1 runs from a private copy
 * too, so that a file written in place (cp) under it cannot change the
 * code it is running.  There are no connections yet, so a file still
 * being written is waited for, a while.
 */
struct rust_build *
rust_reload_load_first (const char *path)
{
  const struct timespec settle = {
    .tv_sec = RUST_SETTLE_MS / 1000,
    .tv_nsec = RUST_SETTLE_MS % 1000 * 1000000L,
  };
  enum rust_copy_result why;
  struct rust_build *build;
  struct rust_file_id id;
  unsigned tries;

  free (watch_path);
  watch_path = nbdkit_absolute_path (path);
  if (watch_path == NULL)
    return NULL;

  for (tries = 1; ; tries++) {
    build = load_copy (path, &id, &why);
    if (build || why == RUST_COPY_FAILED)
      return build;
    if (tries == STARTUP_TRIES) {
      nbdkit_error ("rust-reload: %s: the file is still being written: "
                    "it kept changing for %d ms", path,
                    STARTUP_TRIES * RUST_SETTLE_MS);
      return NULL;
    }
    nanosleep (&settle, NULL);
  }
}

/* From nbdkit's thread_model, asked once at startup (callbacks.c). */
void
rust_reload_fix_thread_model (int model)
{
  server_thread_model = model;
}

/* Copy, load and configure the new file at watch_path, as nbdkit
 * starts a plugin.  Returns the build ready to serve, or NULL after
 * logging why not (CURRENT stays).
 */
static struct rust_build *
start_new_build (const struct rust_build *current)
{
  const struct nbdkit_rust_plugin *p;
  enum rust_copy_result why;
  struct rust_build *build;
  struct rust_file_id id;
  int model;

  build = load_copy (watch_path, &id, &why);
  if (build == NULL) {
    /* Quiet: it is only still being written (copy.c said so). */
    if (why == RUST_COPY_UNSETTLED)
      return NULL;
    goto refused;
  }
  p = &build->plugin;

  if (rust_config_replay (build) == -1) {
    nbdkit_error ("rust-reload: %s: build %u refused the keys the "
                  "server was started with", watch_path, build->number);
    goto unload;
  }
  /* Mirrors nbdkit: without config_complete, configuration succeeds. */
  if (p->config_complete && p->config_complete () == -1) {
    nbdkit_error ("rust-reload: %s: build %u: config_complete failed",
                  watch_path, build->number);
    goto unload;
  }
  model = rust_build_thread_model (build);
  if (model == -1) {
    nbdkit_error ("rust-reload: %s: build %u: thread_model failed",
                  watch_path, build->number);
    goto unload;
  }
  if (model < server_thread_model) {
    nbdkit_error ("rust-reload: %s: build %u asks for the %s thread "
                  "model, stricter than %s, which nbdkit fixed for this "
                  "server at startup: restart nbdkit to serve it",
                  watch_path, build->number,
                  rust_thread_model_name (model),
                  rust_thread_model_name (server_thread_model));
    goto unload;
  }
  /* Mirrors nbdkit: without get_ready or after_fork, success. */
  if (p->get_ready && p->get_ready () == -1) {
    nbdkit_error ("rust-reload: %s: build %u: get_ready failed",
                  watch_path, build->number);
    goto unload;
  }
  if (p->after_fork && p->after_fork () == -1) {
    nbdkit_error ("rust-reload: %s: build %u: after_fork failed",
                  watch_path, build->number);
    if (p->cleanup)
      p->cleanup ();
    goto unload;
  }
  return build;

 unload:
  rust_build_unload (build);
  why = RUST_COPY_FAILED;
 refused:
  if (why == RUST_COPY_FAILED) {
    refused_id = id;
    have_refused = true;
  }
  nbdkit_error ("rust-reload: %s: the new build is not used (see the "
                "error above); build %u stays in service",
                watch_path, current->number);
  return NULL;
}

/* Under builds.c's lock, as a new connection starts: a new build if
 * the file at watch_path changed since CURRENT was copied from it and
 * is ready to serve, else NULL (CURRENT stays).
 */
struct rust_build *
rust_reload_check (const struct rust_build *current)
{
  struct rust_file_id id;
  struct stat st;

  /* Build tools replace the file by removing it first: no file is
   * no change.  stat() never blocks, whatever the file is.
   */
  if (stat (watch_path, &st) == -1) {
    nbdkit_debug ("rust-reload: %s: %m: build %u stays in service",
                  watch_path, current->number);
    return NULL;
  }
  rust_file_id_of (&st, &id);
  if (rust_file_id_equal (&id, &current->id) ||
      (have_refused && rust_file_id_equal (&id, &refused_id)))
    return NULL;
  return start_new_build (current);
}

void
rust_reload_free (void)
{
  free (watch_path);
  watch_path = NULL;
}
