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
 * When rust=PATH is a source (a .rs file or a crate directory,
 * source.c), the source is watched instead (source-watch.c: the files
 * it is built from), with the same quiet rule.  A change is built at
 * once, under the same lock (this connection waits for the compiler),
 * and the library built is loaded from a private copy and configured as
 * above.  A build that fails logs the compiler's diagnostics, keeps the
 * running build, and is tried again once the source changes again.
 *
 * All of this runs under builds.c's lock, which every new connection
 * takes: nothing here may block on anything but the disk (copy.c and
 * file-check.c never open a FIFO or a device), and, for a source, the
 * compiler and the build cache's lock.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
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

/* A plugin given as source (source.c): what rust=PATH is, the
 * fingerprint of the source the current build was built from, the
 * library it was loaded from, and the last source that failed to build
 * or load, not to be tried again unchanged.  source_kind is
 * RUST_SOURCE_LIBRARY when rust=PATH is a built library.
 */
static int source_kind = RUST_SOURCE_LIBRARY;
static unsigned char source_fp[RUST_SOURCE_FP_LEN];
static struct rust_file_id source_lib_id;
static unsigned char refused_fp[RUST_SOURCE_FP_LEN];
static bool have_refused_fp;

static int configure (struct rust_build *build);

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

/* Load a private copy of LIB, the library built from the source PATH
 * (rust_source_private_copy says why a copy); *ID is what LIB was.
 */
static struct rust_build *
load_built_copy (const char *path, const char *lib, struct rust_file_id *id)
{
  struct rust_copy copy;
  struct rust_build *build;
  struct stat st;

  if (stat (lib, &st) == -1) {
    nbdkit_error ("%s: %m", lib);
    return NULL;
  }
  rust_file_id_of (&st, id);
  if (rust_source_private_copy (lib, &copy) == -1)
    return NULL;
  build = rust_build_load (path, copy.file);
  rust_copy_remove (&copy);
  return build;
}

/* At startup, with rust-reload=true and a source at PATH (KIND): build
 * it (*SOURCE says what from and with what), and load build 1 from a
 * private copy of the library, watching the source from now on.
 */
struct rust_build *
rust_reload_load_first_source (const char *path, int kind,
                               struct rust_source *source)
{
  struct timespec newest;
  struct rust_build *build;

  free (watch_path);
  watch_path = nbdkit_absolute_path (path);
  if (watch_path == NULL)
    return NULL;
  source_kind = kind;
  /* Before the build: an edit made while it runs is a change. */
  rust_source_watch (watch_path, kind, source_fp, &newest);
  if (rust_source_build (path, kind, source) == -1)
    return NULL;
  build = load_built_copy (path, source->lib, &source_lib_id);
  if (build)
    build->id = source_lib_id;
  return build;
}

/* The source at watch_path changed (its fingerprint is FP): build it
 * and load the result, configured, or NULL (CURRENT stays) after
 * logging why.  This connection waits for the compiler.
 */
static struct rust_build *
start_source_build (const struct rust_build *current,
                    const unsigned char fp[RUST_SOURCE_FP_LEN])
{
  struct rust_source source;
  struct rust_build *build = NULL;
  struct rust_file_id id;
  struct stat st;

  nbdkit_debug ("rust-reload: %s changed: building it", watch_path);
  if (rust_source_build (watch_path, source_kind, &source) == -1)
    goto refused;

  /* The same library (a touch, an edit undone while the build from it
   * still serves): nothing new to load.
   */
  if (stat (source.lib, &st) == 0) {
    rust_file_id_of (&st, &id);
    if (rust_file_id_equal (&id, &source_lib_id)) {
      nbdkit_debug ("rust-reload: %s: built the same library %s: "
                    "build %u stays in service", watch_path, source.lib,
                    current->number);
      memcpy (source_fp, fp, RUST_SOURCE_FP_LEN);
      rust_source_clear (&source);
      return NULL;
    }
  }
  build = load_built_copy (watch_path, source.lib, &id);
  if (build == NULL || configure (build) == -1) {
    build = NULL;
    rust_source_clear (&source);
    goto refused;
  }
  build->id = id;
  source_lib_id = id;
  memcpy (source_fp, fp, RUST_SOURCE_FP_LEN);
  rust_source_clear (&source);
  return build;

 refused:
  memcpy (refused_fp, fp, RUST_SOURCE_FP_LEN);
  have_refused_fp = true;
  nbdkit_error ("rust-reload: %s: the new build is not used (see the "
                "error above); build %u stays in service, and %s is "
                "built again when it changes", watch_path, current->number,
                watch_path);
  return NULL;
}

/* rust_reload_check for a source: its fingerprint changed, and it is
 * not still being written.
 */
static struct rust_build *
check_source (const struct rust_build *current)
{
  unsigned char fp[RUST_SOURCE_FP_LEN];
  struct timespec newest, now;
  struct stat st;
  int64_t age;

  /* An editor may replace the file by removing it first: no file is
   * no change (as for a library, below).
   */
  if (stat (watch_path, &st) == -1) {
    nbdkit_debug ("rust-reload: %s: %m: build %u stays in service",
                  watch_path, current->number);
    return NULL;
  }
  /* Nor is an empty file, which is what an editor that writes in place
   * leaves for a moment (a moment that can outlast the quiet rule on a
   * busy machine): no plugin is empty.
   */
  if (source_kind == RUST_SOURCE_FILE && st.st_size == 0) {
    nbdkit_debug ("rust-reload: %s is empty: it is still being written, "
                  "so it is not built yet", watch_path);
    return NULL;
  }
  rust_source_watch (watch_path, source_kind, fp, &newest);
  if (memcmp (fp, source_fp, sizeof fp) == 0 ||
      (have_refused_fp && memcmp (fp, refused_fp, sizeof fp) == 0))
    return NULL;
  clock_gettime (CLOCK_REALTIME, &now);
  age = ((int64_t) now.tv_sec - newest.tv_sec) * 1000 +
    ((int64_t) now.tv_nsec - newest.tv_nsec) / 1000000;
  /* (A ctime ahead of the clock cannot be judged by it: built now.) */
  if (age >= 0 && age < RUST_SETTLE_MS) {
    nbdkit_debug ("rust-reload: %s changed %" PRId64 " ms ago: it is "
                  "still being written, so it is not built yet (a source "
                  "is built once it has not changed for %d ms)",
                  watch_path, age, RUST_SETTLE_MS);
    return NULL;
  }
  return start_source_build (current, fp);
}

/* From nbdkit's thread_model, asked once at startup (callbacks.c). */
void
rust_reload_fix_thread_model (int model)
{
  server_thread_model = model;
}

/* Configure the new BUILD as nbdkit starts a plugin.  Returns 0, or
 * -1 after logging why not and unloading it.
 */
static int
configure (struct rust_build *build)
{
  const struct nbdkit_rust_plugin *p = &build->plugin;
  int model;

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
  return 0;

 unload:
  rust_build_unload (build);
  return -1;
}

/* Copy, load and configure the new file at watch_path, as nbdkit
 * starts a plugin.  Returns the build ready to serve, or NULL after
 * logging why not (CURRENT stays).
 */
static struct rust_build *
start_new_build (const struct rust_build *current)
{
  enum rust_copy_result why;
  struct rust_build *build;
  struct rust_file_id id;

  build = load_copy (watch_path, &id, &why);
  if (build == NULL) {
    /* Quiet: it is only still being written (copy.c said so). */
    if (why == RUST_COPY_UNSETTLED)
      return NULL;
    goto refused;
  }
  if (configure (build) == 0)
    return build;
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

  if (source_kind != RUST_SOURCE_LIBRARY)
    return check_source (current);

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
  source_kind = RUST_SOURCE_LIBRARY;
  have_refused_fp = false;
}
