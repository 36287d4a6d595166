/* nbdkit-rust: checking, loading and validating a Rust plugin.
 *
 * Every refusal is an nbdkit_error naming the file as the user gave it
 * and the reason, and the caller returns -1, so nbdkit exits with
 * status 1 instead of crashing on a bad file.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rust-loader.h"

/* Numbers the builds in load order (see struct rust_build). */
static unsigned last_build_number;

/* Refuse anything dlopen() should not be let near: dlopen() runs the
 * constructors of whatever it maps, and its message for a text file
 * ("invalid ELF header") does not say what the user did wrong.  FILE
 * is what will be opened (PATH itself, or a private copy of it made by
 * reload.c); messages name PATH.
 */
static int
check_file (const char *path, const char *file)
{
  static const char elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
  struct stat st;
  char magic[4];
  ssize_t n;
  int fd;

  if (stat (file, &st) == -1) {
    nbdkit_error ("%s: %m", path);
    return -1;
  }
  if (S_ISDIR (st.st_mode)) {
    nbdkit_error ("%s: is a directory, not a Rust plugin (.so)", path);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    nbdkit_error ("%s: not a regular file, so not a Rust plugin (.so)", path);
    return -1;
  }

  fd = open (file, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    nbdkit_error ("%s: %m", path);
    return -1;
  }
  n = read (fd, magic, sizeof magic);
  if (n == -1) {
    nbdkit_error ("%s: read: %m", path);
    close (fd);
    return -1;
  }
  close (fd);
  if (n < (ssize_t) sizeof magic) {
    nbdkit_error ("%s: not an ELF shared object: the file is too short "
                  "(%zd bytes)", path, n);
    return -1;
  }
  if (memcmp (magic, elf_magic, sizeof magic) != 0) {
    nbdkit_error ("%s: not an ELF shared object (no \\x7fELF header): "
                  "a Rust plugin is the .so that cargo builds for a "
                  "cdylib crate", path);
    return -1;
  }
  return 0;
}

/* Open the library FILE and ask it for its descriptor.  Returns the
 * dlopen handle, or NULL after an error.
 */
static void *
open_plugin (const char *path, const char *file,
             struct nbdkit_rust_plugin *copy)
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

  if (rust_descriptor_accept (path, d, copy) == -1)
    goto err;
  return dl;

 err:
  dlclose (dl);
  return NULL;
}

/* Load the Rust plugin at PATH (as the user gave it) and call its load
 * callback.  With rust-reload, COPY is the private copy of PATH to map
 * instead (see reload.c), which the new build owns (rust_build_unload
 * removes it); else COPY is NULL.  Returns the new build, or NULL
 * after an error, and then COPY is still the caller's.
 */
struct rust_build *
rust_build_load (const char *path, char *copy)
{
  struct rust_build *build;

  if (check_file (path, copy ? copy : path) == -1)
    return NULL;

  build = calloc (1, sizeof *build);
  if (build == NULL) {
    nbdkit_error ("calloc: %m");
    return NULL;
  }

  /* nbdkit chdir()s to / when it forks, and a reload will reopen the
   * file later, so keep the path absolute.
   */
  build->path = nbdkit_realpath (path);
  if (build->path == NULL)
    goto err;

  build->dl = open_plugin (path, copy ? copy : build->path, &build->plugin);
  if (build->dl == NULL)
    goto err;

  build->copy = copy;
  build->number = ++last_build_number;
  build->refs = 1;
  nbdkit_debug ("loaded Rust plugin %s (build %u) from %s%s%s: ABI %" PRIu32
                ".%" PRIu32 ", SDK %s",
                build->plugin.name, build->number, build->path,
                copy ? ", private copy " : "", copy ? copy : "",
                build->plugin.abi_major, build->plugin.abi_minor,
                build->plugin.sdk_version ? build->plugin.sdk_version : "?");

  /* Mirrors nbdkit: a plugin without load has nothing to do. */
  if (build->plugin.load)
    build->plugin.load ();
  return build;

 err:
  free (build->path);
  free (build);
  return NULL;
}

/* Call the plugin's unload, then unmap it and remove its private copy. */
void
rust_build_unload (struct rust_build *build)
{
  /* Mirrors nbdkit: a plugin without unload has nothing to do. */
  if (build->plugin.unload)
    build->plugin.unload ();
  dlclose (build->dl);
  if (build->copy) {
    if (unlink (build->copy) == -1)
      nbdkit_error ("rust-reload: removing %s: %m", build->copy);
    free (build->copy);
  }
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
