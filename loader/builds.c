/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the builds of the plugin, and which one each connection
 * uses.
 *
 * Without rust-reload there is one build, loaded at startup and
 * current until unload, and every connection uses it.  With
 * rust-reload, the first callback of each new connection (preconnect)
 * asks reload.c whether the file changed and a new build is ready; if
 * so that one becomes current.  Each connection then uses the build
 * that was current when it started.
 *
 * Each connection holds a reference on its build from its first
 * callback until its thread exits, which nbdkit's connection threads
 * do right after close.  Holding it until thread exit rather than
 * close covers connections that end before open, and orders the
 * release after the thread's Rust thread-local destructors: glibc does
 * not unmap a library on dlclose() while a live thread has
 * thread-local destructors registered in it.  The last reference on a
 * build that is no longer current retires it: cleanup, unload and
 * dlclose.
 *
 * All of this runs when connections start and end, under one mutex.
 * The request path (callbacks.c) is the same with or without
 * rust-reload: a handle points at its build, so a request is a pointer
 * load and an indirect call, with no lock and no atomic.
 */

#define _GNU_SOURCE 1           /* dladdr */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "rust-loader.h"

/* The build new connections get; NULL until the plugin is loaded. */
static struct rust_build *current;

/* Everything below changes under this lock, once serving has begun. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool reloading;          /* rust_builds_start_reload succeeded */
static bool stopping;           /* cleanup or unload has begun */
static pthread_key_t connection_key; /* a connection thread's build */
static struct rust_build *retired;   /* no longer current, still in use */

struct rust_build *
rust_builds_current (void)
{
  return current;
}

/* The build loaded at startup (config.c), before nbdkit starts any
 * thread.
 */
void
rust_builds_set_first (struct rust_build *build)
{
  current = build;
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
  nbdkit_debug ("rust-reload: retired build %u (cleanup, unload, dlclose)",
                number);
}

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

/* From config_complete with rust-reload=true, once the first build is
 * loaded and before nbdkit starts any thread.
 */
int
rust_builds_start_reload (void)
{
  int err;

  if (pin_loader () == -1)
    return -1;
  err = pthread_key_create (&connection_key, connection_thread_exit);
  if (err != 0) {
    errno = err;
    nbdkit_error ("rust-reload: pthread_key_create: %m");
    return -1;
  }
  reloading = true;
  return 0;
}

/* Under the lock: BUILD serves new connections from now on, and the
 * build it replaces retires once its connections have closed.
 */
static void
make_current (struct rust_build *build)
{
  struct rust_build *old = current;

  current = build;
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

  if (!reloading)
    return current;
  build = pthread_getspecific (connection_key);
  if (build)
    return build;

  pthread_mutex_lock (&lock);
  if (stopping) {
    pthread_mutex_unlock (&lock);
    nbdkit_error ("rust-reload: nbdkit is shutting down");
    return NULL;
  }
  build = rust_reload_check (current);
  if (build)
    make_current (build);
  build = current;
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
  if (current && current->plugin.cleanup)
    current->plugin.cleanup ();
  pthread_mutex_unlock (&lock);
}

/* nbdkit's unload: unload every build. */
void
rust_builds_unload (void)
{
  struct rust_build *build;

  pthread_mutex_lock (&lock);
  stopping = true;
  if (reloading)
    pthread_key_delete (connection_key);
  while (retired) {
    build = retired;
    retired = build->next;
    rust_build_unload (build);
  }
  if (current)
    rust_build_unload (current);
  current = NULL;
  pthread_mutex_unlock (&lock);
}
