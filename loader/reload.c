/* nbdkit-rust: rust-reload, a new build of the plugin for new
 * connections while the old one keeps serving the connections it has.
 *
 * With rust-reload=true, the first callback of each new connection
 * (preconnect) stats rust=PATH.  When the file differs from the one the
 * current build was copied from (device, inode, size or mtime), the
 * loader:
 *
 *   1. copies it into a private directory: dlopen() hands back the
 *      object already loaded from the same file, and must never map a
 *      file that is still being written, so the copy is refused if the
 *      file changed while it was copied or if its ELF headers reach
 *      past its end;
 *   2. loads and validates the copy exactly as at startup (load.c);
 *   3. gives it the recorded keys in order (config.c), then calls
 *      config_complete, thread_model (which must not ask for a model
 *      stricter than the one nbdkit fixed at startup), get_ready and
 *      after_fork;
 *   4. makes it current: this connection and later ones use it.
 *
 * If any step fails, an error names the reason and the running build
 * stays.  A file that failed is tried again once it changes; one that
 * changed while being copied, at the next connection.
 *
 * Each connection holds a reference on its build from its first
 * callback until its thread exits, which nbdkit's connection threads
 * do right after close.  Holding it until thread exit rather than
 * close covers connections that end before open, and orders the
 * release after the thread's Rust thread-local destructors: glibc does
 * not unmap a library on dlclose() while a live thread has
 * thread-local destructors registered in it.  The last reference on a
 * build that is no longer current retires it: cleanup, unload,
 * dlclose, and its copy removed.
 *
 * All of this runs when connections start and end, under one mutex.
 * The request path (callbacks.c) is the same with or without
 * rust-reload: a handle points at its build, so a request is a pointer
 * load and an indirect call, with no lock and no atomic.
 */

#define _GNU_SOURCE 1           /* dladdr */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rust-loader.h"

/* rust-reload=BOOL. */
bool rust_reload;

/* The thread model nbdkit was given at startup: a new build may not
 * ask for a stricter one.
 */
int rust_server_thread_model = NBDKIT_THREAD_MODEL_PARALLEL;

/* rust=PATH made absolute before nbdkit chdir()s to /.  Symbolic links
 * are kept, so that pointing a link at another build is a change too.
 */
static char *watch_path;

/* The private directory holding the copies, and how many were made. */
static char *copy_dir;
static unsigned nr_copies;

/* Everything below changes under this lock, once serving has begun. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool started;            /* rust_reload_start succeeded */
static bool stopping;           /* cleanup or unload has begun */
static pthread_key_t connection_key; /* a connection thread's build */
static struct rust_build *retired;   /* no longer current, still in use */
static struct rust_file_id refused_id; /* the last file refused for good */
static bool have_refused;

static void
file_id_of (const struct stat *st, struct rust_file_id *id)
{
  id->dev = st->st_dev;
  id->ino = st->st_ino;
  id->size = st->st_size;
  id->mtime = st->st_mtim;
}

static bool
same_file_id (const struct rust_file_id *a, const struct rust_file_id *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
    a->mtime.tv_sec == b->mtime.tv_sec &&
    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int
rust_reload_watch (const char *path)
{
  free (watch_path);
  watch_path = nbdkit_absolute_path (path);
  return watch_path ? 0 : -1;
}

/* Created on first use, mode 0700 (mkdtemp).  The copies are mapped
 * executable, so $TMPDIR must not be mounted noexec.
 */
static int
make_copy_dir (void)
{
  const char *tmpdir = getenv ("TMPDIR");
  char *template;

  if (copy_dir)
    return 0;
  if (tmpdir == NULL || tmpdir[0] == '\0')
    tmpdir = "/tmp";
  if (asprintf (&template, "%s/nbdkit-rust-reload-XXXXXX", tmpdir) == -1) {
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  if (mkdtemp (template) == NULL) {
    nbdkit_error ("rust-reload: cannot make a private directory for the "
                  "plugin's copies: %s: %m", template);
    free (template);
    return -1;
  }
  /* Absolute, since nbdkit chdir()s to / when it forks. */
  copy_dir = nbdkit_realpath (template);
  if (copy_dir == NULL) {
    rmdir (template);
    free (template);
    return -1;
  }
  free (template);
  return 0;
}

/* Copy the file at watch_path, byte for byte, into the private
 * directory.  Returns the copy's name and, in *ID, what the file was
 * when copied; NULL after an error, with *TRANSIENT set if the same
 * file is worth trying again (it changed while being copied).
 */
static char *
copy_file (struct rust_file_id *id, bool *transient)
{
  const char *base = strrchr (watch_path, '/') + 1;
  struct stat before, after;
  char *copy = NULL, *buf = NULL;
  int in = -1, out = -1;
  off_t copied = 0;
  ssize_t n;

  *transient = true;
  in = open (watch_path, O_RDONLY | O_CLOEXEC);
  if (in == -1 || fstat (in, &before) == -1) {
    nbdkit_error ("rust-reload: %s: %m", watch_path);
    goto err;
  }
  if (!S_ISREG (before.st_mode)) {
    nbdkit_error ("rust-reload: %s: not a regular file, so not a Rust "
                  "plugin (.so)", watch_path);
    *transient = false;
    file_id_of (&before, id);
    goto err;
  }

  if (make_copy_dir () == -1)
    goto err;
  if (asprintf (&copy, "%s/%u-%s", copy_dir, ++nr_copies, base) == -1) {
    nbdkit_error ("asprintf: %m");
    copy = NULL;
    goto err;
  }
  out = open (copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (out == -1) {
    nbdkit_error ("rust-reload: %s: %m", copy);
    goto err_free;
  }
  buf = malloc (65536);
  if (buf == NULL) {
    nbdkit_error ("malloc: %m");
    goto err_unlink;
  }
  while ((n = read (in, buf, 65536)) != 0) {
    ssize_t done = 0;

    if (n == -1) {
      if (errno == EINTR)
        continue;
      nbdkit_error ("rust-reload: %s: read: %m", watch_path);
      goto err_unlink;
    }
    while (done < n) {
      ssize_t w = write (out, buf + done, n - done);

      if (w == -1) {
        if (errno == EINTR)
          continue;
        nbdkit_error ("rust-reload: %s: write: %m", copy);
        goto err_unlink;
      }
      done += w;
    }
    copied += n;
  }
  if (close (out) == -1) {
    out = -1;
    nbdkit_error ("rust-reload: %s: close: %m", copy);
    goto err_unlink;
  }
  out = -1;

  /* A build tool that writes the file in place is still at it if the
   * file changed while it was being copied.
   */
  if (fstat (in, &after) == -1) {
    nbdkit_error ("rust-reload: %s: %m", watch_path);
    goto err_unlink;
  }
  file_id_of (&after, id);
  if (copied != before.st_size || after.st_size != before.st_size ||
      after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec) {
    nbdkit_error ("rust-reload: %s: the file changed while it was being "
                  "copied (%jd bytes, then %jd): it is still being "
                  "written, so it is not loaded yet",
                  watch_path, (intmax_t) before.st_size,
                  (intmax_t) after.st_size);
    goto err_unlink;
  }

  free (buf);
  close (in);
  *transient = false;
  return copy;

 err_unlink:
  unlink (copy);
 err_free:
  free (copy);
 err:
  free (buf);
  if (out >= 0)
    close (out);
  if (in >= 0)
    close (in);
  return NULL;
}

/* A build tool writing a library in place leaves it short of what its
 * ELF headers describe until it is done: the program headers, every
 * segment they map and the section headers all lie within a complete
 * file.  A file that is not ELF of this machine's class at all is left
 * for check_file() and dlopen() to name.
 */
static int
check_complete (const char *copy, off_t size)
{
  ElfW(Ehdr) eh;
  ElfW(Phdr) ph;
  uint64_t end = 0, e;
  unsigned i;
  int fd, r = -1;

  fd = open (copy, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    nbdkit_error ("rust-reload: %s: %m", copy);
    return -1;
  }
  if (pread (fd, &eh, sizeof eh, 0) != (ssize_t) sizeof eh ||
      memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != (__ELF_NATIVE_CLASS == 64 ?
                               ELFCLASS64 : ELFCLASS32)) {
    r = 0;
    goto out;
  }

  e = (uint64_t) eh.e_phoff + (uint64_t) eh.e_phnum * eh.e_phentsize;
  if (e > end)
    end = e;
  if (eh.e_shoff != 0) {
    e = (uint64_t) eh.e_shoff + (uint64_t) eh.e_shnum * eh.e_shentsize;
    if (e > end)
      end = e;
  }
  if (end <= (uint64_t) size && eh.e_phentsize == sizeof ph) {
    for (i = 0; i < eh.e_phnum; i++) {
      if (pread (fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph)
          != (ssize_t) sizeof ph)
        break;
      if (ph.p_offset > (uint64_t) size)
        e = UINT64_MAX;
      else
        e = (uint64_t) ph.p_offset + ph.p_filesz;
      if (e > end)
        end = e;
    }
  }

  if (end > (uint64_t) size) {
    if (end == UINT64_MAX)
      nbdkit_error ("rust-reload: %s: not a complete library yet (%jd "
                    "bytes, less than its ELF headers describe): still "
                    "being written?", watch_path, (intmax_t) size);
    else
      nbdkit_error ("rust-reload: %s: not a complete library yet (%jd "
                    "bytes, but its ELF headers describe %" PRIu64 "): "
                    "still being written?",
                    watch_path, (intmax_t) size, end);
    goto out;
  }
  r = 0;

 out:
  close (fd);
  return r;
}

/* Copy watch_path and load the copy (load.c: checked, dlopen()ed,
 * validated, load called).  NAME is what messages call the file.
 * Returns the build, or NULL after an error as for copy_file.
 */
static struct rust_build *
load_copy (const char *name, struct rust_file_id *id, bool *transient)
{
  struct rust_build *build;
  char *copy;

  copy = copy_file (id, transient);
  if (copy == NULL)
    return NULL;
  if (check_complete (copy, id->size) == -1 ||
      (build = rust_build_load (name, copy)) == NULL) {
    unlink (copy);
    free (copy);
    return NULL;
  }
  build->id = *id;
  return build;
}

/* At rust= when rust-reload=true came first: build 1 runs from a
 * private copy too, so that a file written in place (cp) under it
 * cannot change the code it is running.
 */
struct rust_build *
rust_reload_load_first (const char *path)
{
  struct rust_file_id id;
  bool transient;

  return load_copy (path, &id, &transient);
}

/* Keep the loader mapped until the process exits.  nbdkit dlclose()s
 * it after unload, but a connection thread that is only now exiting may
 * still run connection_thread_exit below.
 */
static int
pin_loader (void)
{
  Dl_info info;

  if (dladdr ((void *) pin_loader, &info) == 0 || info.dli_fname == NULL) {
    nbdkit_error ("rust-reload: cannot find the loader's own file "
                  "(dladdr failed)");
    return -1;
  }
  if (dlopen (info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)
      == NULL) {
    nbdkit_error ("rust-reload: %s: %s", info.dli_fname, dlerror ());
    return -1;
  }
  return 0;
}

static void retire (struct rust_build *build);

/* A connection thread exits: it drops its reference on its build. */
static void
connection_thread_exit (void *vbuild)
{
  struct rust_build *build = vbuild;
  struct rust_build **p;

  pthread_mutex_lock (&lock);
  if (!stopping && --build->refs == 0) {
    for (p = &retired; *p != build; p = &(*p)->next)
      ;
    *p = build->next;
    retire (build);
  }
  pthread_mutex_unlock (&lock);
}

/* From config_complete, once every key is known, before nbdkit starts
 * any thread.
 */
int
rust_reload_start (void)
{
  int err;

  if (pin_loader () == -1)
    return -1;

  /* rust-reload came after rust=: build 1 maps PATH itself.  Load it
   * again from a private copy, with the keys it has had, and drop the
   * first (config_complete comes next, for the copy only).
   */
  if (rust_current->copy == NULL) {
    struct rust_build *build;
    struct rust_file_id id;
    bool transient;

    build = load_copy (watch_path, &id, &transient);
    if (build == NULL)
      return -1;
    if (rust_config_replay (build) == -1) {
      rust_build_unload (build);
      return -1;
    }
    nbdkit_debug ("rust-reload: build %u replaces build %u, which "
                  "mapped %s itself (rust-reload came after rust=)",
                  build->number, rust_current->number, watch_path);
    rust_build_unload (rust_current);
    rust_current = build;
  }

  err = pthread_key_create (&connection_key, connection_thread_exit);
  if (err != 0) {
    errno = err;
    nbdkit_error ("rust-reload: pthread_key_create: %m");
    return -1;
  }
  started = true;
  return 0;
}

/* The last connection of a build that is no longer current has gone:
 * shut the build down as nbdkit would at exit.
 */
static void
retire (struct rust_build *build)
{
  unsigned number = build->number;

  nbdkit_debug ("rust-reload: retiring build %u: its last connection "
                "has closed", number);
  /* Mirrors nbdkit: without cleanup, nothing happens. */
  if (build->plugin.cleanup)
    build->plugin.cleanup ();
  rust_build_unload (build);
  nbdkit_debug ("rust-reload: retired build %u (cleanup, unload, dlclose, "
                "private copy removed)", number);
}

/* Copy, load and configure the new file at watch_path, as nbdkit
 * starts a plugin.  Returns the build ready to serve, or NULL after
 * logging why not.
 */
static struct rust_build *
load_new_build (void)
{
  const struct nbdkit_rust_plugin *p;
  struct rust_build *build;
  struct rust_file_id id;
  bool transient;
  int model;

  build = load_copy (watch_path, &id, &transient);
  if (build == NULL)
    goto refused;
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
  if (model < rust_server_thread_model) {
    nbdkit_error ("rust-reload: %s: build %u asks for the %s thread "
                  "model, stricter than %s, which nbdkit fixed for this "
                  "server at startup: restart nbdkit to serve it",
                  watch_path, build->number,
                  rust_thread_model_name (model),
                  rust_thread_model_name (rust_server_thread_model));
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
 refused:
  if (!transient) {
    refused_id = id;
    have_refused = true;
  }
  nbdkit_error ("rust-reload: %s: the new build is not used (see the "
                "error above); build %u stays in service",
                watch_path, rust_current->number);
  return NULL;
}

/* Under the lock: load the file at watch_path if it changed. */
static void
check_for_new_build (void)
{
  struct rust_build *build, *old;
  struct rust_file_id id;
  struct stat st;

  /* Build tools replace the file by removing it first: no file is
   * no change.
   */
  if (stat (watch_path, &st) == -1) {
    nbdkit_debug ("rust-reload: %s: %m: build %u stays in service",
                  watch_path, rust_current->number);
    return;
  }
  file_id_of (&st, &id);
  if (same_file_id (&id, &rust_current->id) ||
      (have_refused && same_file_id (&id, &refused_id)))
    return;

  build = load_new_build ();
  if (build == NULL)
    return;

  old = rust_current;
  rust_current = build;
  nbdkit_debug ("rust-reload: build %u serves new connections from now on",
                build->number);
  if (--old->refs == 0)
    retire (old);
  else {
    nbdkit_debug ("rust-reload: build %u retires when its %u open "
                  "connection(s) close", old->number, old->refs);
    old->next = retired;
    retired = old;
  }
}

/* The build this connection uses: on the first call in a connection
 * thread (preconnect), the current one, after loading a new build if
 * the file changed.  The thread holds a reference on it until it exits.
 * Without rust-reload, simply the only build.
 */
struct rust_build *
rust_connection_build (void)
{
  struct rust_build *build;
  int err;

  if (!started)
    return rust_current;
  build = pthread_getspecific (connection_key);
  if (build)
    return build;

  pthread_mutex_lock (&lock);
  if (stopping) {
    pthread_mutex_unlock (&lock);
    nbdkit_error ("rust-reload: nbdkit is shutting down");
    return NULL;
  }
  check_for_new_build ();
  build = rust_current;
  err = pthread_setspecific (connection_key, build);
  if (err == 0)
    build->refs++;
  pthread_mutex_unlock (&lock);
  if (err != 0) {
    errno = err;
    nbdkit_error ("rust-reload: pthread_setspecific: %m");
    return NULL;
  }
  return build;
}

/* nbdkit's cleanup: every build still loaded. */
void
rust_builds_cleanup (void)
{
  struct rust_build *build;

  pthread_mutex_lock (&lock);
  stopping = true;
  /* Retired builds still serving connections nbdkit did not close. */
  for (build = retired; build; build = build->next)
    if (build->plugin.cleanup)
      build->plugin.cleanup ();
  /* Mirrors nbdkit: without cleanup, nothing happens. */
  if (rust_current && rust_current->plugin.cleanup)
    rust_current->plugin.cleanup ();
  pthread_mutex_unlock (&lock);
}

/* nbdkit's unload: unload every build, remove the private directory. */
void
rust_builds_unload (void)
{
  struct rust_build *build;

  pthread_mutex_lock (&lock);
  stopping = true;
  if (started)
    pthread_key_delete (connection_key);
  while (retired) {
    build = retired;
    retired = build->next;
    rust_build_unload (build);
  }
  if (rust_current)
    rust_build_unload (rust_current);
  rust_current = NULL;
  pthread_mutex_unlock (&lock);

  if (copy_dir) {
    if (rmdir (copy_dir) == -1)
      nbdkit_error ("rust-reload: removing %s: %m", copy_dir);
    free (copy_dir);
    copy_dir = NULL;
  }
  free (watch_path);
  watch_path = NULL;
}
