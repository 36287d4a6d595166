/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: running rustc or cargo, and logging its diagnostics.
 *
 * The compiler runs with no shell, stdin from /dev/null, in a working
 * directory of the caller's choosing, and with its stdout (cargo's
 * JSON messages) and stderr (the diagnostics) read through pipes, both
 * polled so that neither can fill up and stall it.  When it fails,
 * its diagnostics go to nbdkit's log, one nbdkit_error per line, up to
 * a limit that keeps the first errors (the ones to act on) and says
 * how many lines were left out.
 */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "source.h"

extern char **environ;

/* How much of the diagnostics a failed build logs. */
#define MAX_LINES 200
#define MAX_BYTES (32 * 1024)

long long
rust_ms_since (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return ((long long) now.tv_sec - start->tv_sec) * 1000 +
    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Not passed on to the compiler: what is preloaded into nbdkit (a
 * sanitizer runtime, a test shim) is meant for the server, and rustc
 * does not run under the AddressSanitizer runtime (it crashes).
 */
static const char *const dropped[] = { "LD_PRELOAD=", NULL };

/* nbdkit's environment with the NAME=VALUE strings in SET (ending in
 * NULL) replacing or adding to it.  NULL after an error.
 */
char **
rust_compile_env (const char *const *set)
{
  size_t n = 0, nset = 0, i, j, k = 0;
  char **env;

  while (environ[n])
    n++;
  while (set[nset])
    nset++;
  env = calloc (n + nset + 1, sizeof *env);
  if (env == NULL) {
    nbdkit_error ("calloc: %m");
    return NULL;
  }
  for (i = 0; i < n; i++) {
    const char *eq = strchr (environ[i], '=');
    size_t len = eq ? (size_t) (eq - environ[i]) + 1 : strlen (environ[i]);
    bool replaced = false;

    for (j = 0; j < nset; j++)
      if (strncmp (environ[i], set[j], len) == 0)
        replaced = true;
    for (j = 0; dropped[j]; j++)
      if (strncmp (environ[i], dropped[j], len) == 0)
        replaced = true;
    if (!replaced)
      env[k++] = environ[i];
  }
  for (j = 0; j < nset; j++)
    env[k++] = (char *) set[j];
  env[k] = NULL;
  return env;
}

void
rust_compile_env_free (char **env)
{
  /* The strings belong to environ and the caller. */
  free (env);
}

/* A growing buffer for one pipe. */
struct output {
  char *data;
  size_t len, size;
};

static int
append (struct output *o, const char *buf, size_t n)
{
  if (o->len + n + 1 > o->size) {
    size_t size = o->size ? o->size : 8192;
    char *p;

    while (o->len + n + 1 > size)
      size *= 2;
    p = realloc (o->data, size);
    if (p == NULL) {
      nbdkit_error ("realloc: %m");
      return -1;
    }
    o->data = p;
    o->size = size;
  }
  memcpy (o->data + o->len, buf, n);
  o->len += n;
  o->data[o->len] = '\0';
  return 0;
}

/* Log DIAGNOSTICS with LOG (nbdkit_error or nbdkit_debug), one call a
 * line, the first MAX_LINES lines or MAX_BYTES bytes of them.
 */
static void
log_lines (const char *diagnostics, bool error)
{
  const char *p = diagnostics, *nl;
  unsigned lines = 0, left = 0;
  size_t bytes = 0;

  for (; p && *p; p = nl ? nl + 1 : NULL) {
    int len;

    nl = strchr (p, '\n');
    len = nl ? nl - p : (int) strlen (p);
    if (lines >= MAX_LINES || bytes + len > MAX_BYTES) {
      left++;
      continue;
    }
    lines++;
    bytes += len + 1;
    if (error)
      nbdkit_error ("%.*s", len, p);
    else
      nbdkit_debug ("%.*s", len, p);
  }
  if (left)
    nbdkit_error ("... %u more lines", left);
}

/* Run ARGV[0] (absolute) with ENV in CWD.  PATH names the source in
 * messages (NULL: not a build but RUN -vV), WHAT the tool (rustc,
 * cargo) and KEY the key that chooses it.  With OUT, *OUT is its
 * stdout.  Returns 0 if it exited with
 * status 0, else -1 after logging its diagnostics and why (and with
 * DIAGNOSTICS, *DIAGNOSTICS is all of them, or NULL).
 */
int
rust_compile_run (const char *path, const char *what, const char *key,
                  char *const argv[], char *const env[], const char *cwd,
                  char **out, char **diagnostics)
{
  posix_spawn_file_actions_t actions;
  struct output o = { 0 }, e = { 0 };
  int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
  struct pollfd fds[2];
  pid_t pid;
  int err, status, r = -1;
  char buf[8192];

  if (out)
    *out = NULL;
  if (diagnostics)
    *diagnostics = NULL;
  if (pipe2 (opipe, O_CLOEXEC) == -1 || pipe2 (epipe, O_CLOEXEC) == -1) {
    nbdkit_error ("pipe2: %m");
    goto out;
  }
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&actions, opipe[1], 1);
  posix_spawn_file_actions_adddup2 (&actions, epipe[1], 2);
  posix_spawn_file_actions_addchdir_np (&actions, cwd);
  err = posix_spawn (&pid, argv[0], &actions, NULL, argv, env);
  posix_spawn_file_actions_destroy (&actions);
  close (opipe[1]);
  close (epipe[1]);
  opipe[1] = epipe[1] = -1;
  if (err != 0) {
    errno = err;
    nbdkit_error ("%s: cannot run %s: %m (%s= chooses it)",
                  path ? path : argv[0], argv[0], key);
    goto out;
  }

  fds[0].fd = opipe[0];
  fds[1].fd = epipe[0];
  fds[0].events = fds[1].events = POLLIN;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    int i;

    if (poll (fds, 2, -1) == -1) {
      if (errno == EINTR)
        continue;
      nbdkit_error ("poll: %m");
      break;
    }
    for (i = 0; i < 2; i++) {
      ssize_t n;

      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      n = read (fds[i].fd, buf, sizeof buf);
      if (n == -1 && errno == EINTR)
        continue;
      if (n <= 0) {
        fds[i].fd = -1;
        continue;
      }
      if (append (i == 0 ? &o : &e, buf, n) == -1) {
        fds[0].fd = fds[1].fd = -1;
        kill (pid, SIGKILL);
      }
    }
  }

  while (waitpid (pid, &status, 0) == -1) {
    if (errno != EINTR) {
      nbdkit_error ("waitpid: %m");
      goto out;
    }
  }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
    /* Warnings: only for -v. */
    log_lines (e.data, false);
    if (out) {
      *out = o.data ? o.data : strdup ("");
      o.data = NULL;
    }
    r = 0;
    goto out;
  }

  log_lines (e.data, true);
  if (path == NULL)
    nbdkit_error ("%s -vV failed (%s= chooses the %s): it %s %d", argv[0],
                  key, what, WIFEXITED (status) ? "exited with status"
                  : "was killed by signal", WIFEXITED (status) ?
                  WEXITSTATUS (status) : WTERMSIG (status));
  else if (WIFEXITED (status))
    nbdkit_error ("%s: compilation failed: %s exited with status %d",
                  path, what, WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    nbdkit_error ("%s: compilation failed: %s killed by signal %d",
                  path, what, WTERMSIG (status));
  else
    nbdkit_error ("%s: compilation failed: %s ended with status 0x%x",
                  path, what, status);
  if (diagnostics) {
    *diagnostics = e.data;
    e.data = NULL;
  }

 out:
  for (int i = 0; i < 2; i++) {
    if (opipe[i] >= 0)
      close (opipe[i]);
    if (epipe[i] >= 0)
      close (epipe[i]);
  }
  free (o.data);
  free (e.data);
  return r;
}

/* The stdout of RUN -vV, run in CWD, or NULL after an error.  WHAT is
 * the tool (rustc, cargo) and KEY the key that chooses it.
 */
char *
rust_compile_output (const char *what, const char *key, const char *run,
                     const char *cwd)
{
  char *const argv[] = { (char *) run, (char *) "-vV", NULL };
  const char *const set[] = { NULL };
  char **env;
  char *out;
  int r;

  env = rust_compile_env (set);
  if (env == NULL)
    return NULL;
  r = rust_compile_run (NULL, what, key, argv, env, cwd, &out, NULL);
  rust_compile_env_free (env);
  return r == -1 ? NULL : out;
}
