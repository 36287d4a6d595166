/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: which rustc or cargo builds a plugin, and which version
 * it is, without running it on a warm start.
 *
 * The compiler's version is part of every cache key, but running
 * `rustc -vV` costs more than a warm start may (tens of milliseconds).
 * So the loader finds the compiler's real binary and memoises its
 * -vV output in the cache under the binary's identity (real path,
 * device, inode, size, mtime): a new or updated compiler is a new
 * identity, and is run once.
 *
 * rustup installs proxies (rustc, cargo are links to rustup) that pick
 * a toolchain at each run.  The loader follows rustup's common case
 * itself: $RUSTUP_TOOLCHAIN, else default_toolchain in rustup's
 * settings.toml, is ${RUSTUP_HOME}/toolchains/TOOLCHAIN/bin/rustc.
 * Anything less common (a directory override, a rust-toolchain file
 * near the source, a toolchain not found there) is left to rustup, and
 * -vV is run each time: correct, only slower.
 */

#define _GNU_SOURCE 1

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

void
rust_compiler_free (struct rust_compiler *c)
{
  free (c->run);
  free (c->version);
  free (c->line);
  c->run = c->version = c->line = NULL;
}

/* NAME searched for in $PATH, as the shell would; NULL if not found. */
static char *
search_path (const char *name)
{
  const char *p = getenv ("PATH");
  char *r;

  if (p == NULL)
    p = "/usr/local/bin:/usr/bin:/bin";
  while (*p) {
    const char *end = strchr (p, ':');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    struct stat st;

    /* An empty entry is the current directory. */
    if ((len ? asprintf (&r, "%.*s/%s", (int) len, p, name)
         : asprintf (&r, "./%s", name)) == -1)
      return NULL;
    if (stat (r, &st) == 0 && S_ISREG (st.st_mode) &&
        access (r, X_OK) == 0)
      return r;
    free (r);
    if (end == NULL)
      break;
    p = end + 1;
  }
  return NULL;
}

/* A rust-toolchain or rust-toolchain.toml file in DIR or above it. */
static bool
toolchain_file_above (const char *dir)
{
  char *d = strdup (dir), *slash;
  bool found = false;

  while (d && !found) {
    static const char *const names[] = {
      "rust-toolchain", "rust-toolchain.toml"
    };
    size_t i;

    for (i = 0; i < 2 && !found; i++) {
      char *f;
      struct stat st;

      if (asprintf (&f, "%s/%s", d[0] ? d : "", names[i]) == -1)
        break;
      found = stat (f, &st) == 0;
      free (f);
    }
    slash = strrchr (d, '/');
    if (slash == NULL || d[0] == '\0')
      break;
    *slash = '\0';
  }
  free (d);
  return found;
}

/* The value of a TOML line KEY = "VALUE", or NULL. */
static char *
toml_string (const char *line, const char *key)
{
  size_t n = strlen (key);
  const char *v, *end;

  if (strncmp (line, key, n) != 0)
    return NULL;
  v = line + n;
  v += strspn (v, " \t");
  if (*v != '=')
    return NULL;
  v++;
  v += strspn (v, " \t");
  if (*v != '"')
    return NULL;
  v++;
  end = strchr (v, '"');
  if (end == NULL)
    return NULL;
  return strndup (v, end - v);
}

/* The real binary the rustup proxy NAME would run for a source in
 * SRCDIR, or NULL (with a debug line saying why) when the loader
 * should leave that to rustup.
 */
static char *
rustup_binary (const char *name, const char *srcdir)
{
  const char *home = getenv ("RUSTUP_HOME");
  const char *tc = getenv ("RUSTUP_TOOLCHAIN");
  char *rhome = NULL, *settings = NULL, *data = NULL, *dflt = NULL;
  char *bin = NULL;
  size_t len;
  struct stat st;

  if (home && home[0])
    rhome = strdup (home);
  else if (getenv ("HOME") &&
           asprintf (&rhome, "%s/.rustup", getenv ("HOME")) == -1)
    rhome = NULL;
  if (rhome == NULL) {
    nbdkit_debug ("rustup: no RUSTUP_HOME or HOME");
    return NULL;
  }

  if (tc == NULL || tc[0] == '\0') {
    char *line, *save;
    bool overrides = false;

    if (toolchain_file_above (srcdir)) {
      nbdkit_debug ("rustup: a rust-toolchain file applies to %s: "
                    "running the compiler to learn its version", srcdir);
      goto out;
    }
    if (asprintf (&settings, "%s/settings.toml", rhome) == -1)
      goto out;
    if (stat (settings, &st) == -1 || !S_ISREG (st.st_mode) ||
        rust_read_file (settings, &data, &len) == -1) {
      nbdkit_debug ("rustup: cannot read %s", settings);
      goto out;
    }
    for (line = strtok_r (data, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save)) {
      line += strspn (line, " \t");
      if (line[0] == '[')
        overrides = strncmp (line, "[overrides]", 11) == 0;
      else if (overrides && line[0] != '#' && line[0] != '\0') {
        nbdkit_debug ("rustup: %s has directory overrides: running the "
                      "compiler to learn its version", settings);
        goto out;
      }
      else if (!overrides && dflt == NULL)
        dflt = toml_string (line, "default_toolchain");
    }
    if (dflt == NULL) {
      nbdkit_debug ("rustup: no default_toolchain in %s", settings);
      goto out;
    }
    tc = dflt;
  }

  if (strchr (tc, '/')) {
    if (asprintf (&bin, "%s/bin/%s", tc, name) == -1)
      bin = NULL;
  }
  else if (asprintf (&bin, "%s/toolchains/%s/bin/%s", rhome, tc, name) == -1)
    bin = NULL;
  if (bin && (stat (bin, &st) == -1 || !S_ISREG (st.st_mode))) {
    nbdkit_debug ("rustup: %s: %m: running the compiler to learn its "
                  "version", bin);
    free (bin);
    bin = NULL;
  }

 out:
  free (rhome);
  free (settings);
  free (data);
  free (dflt);
  return bin;
}

/* The memoised -vV output of the binary REAL (stat ST), running RUN in
 * CWD if it is not memoised yet.  NULL after an error.
 */
static char *
memoised_version (const char *what, const char *key, const char *real,
                  const struct stat *st, const char *run, const char *cwd)
{
  struct rust_sha256 s;
  unsigned char digest[RUST_SHA256_LEN];
  char hex[RUST_SHA256_HEX], ident[256];
  char *dir, *file = NULL, *version = NULL;
  size_t len;
  int e;

  dir = rust_cache_subdir ("compilers");
  if (dir == NULL)
    return NULL;
  snprintf (ident, sizeof ident, "%ju %ju %jd %jd.%09ld",
            (uintmax_t) st->st_dev, (uintmax_t) st->st_ino,
            (intmax_t) st->st_size, (intmax_t) st->st_mtim.tv_sec,
            st->st_mtim.tv_nsec);
  rust_sha256_init (&s);
  rust_sha256_string (&s, "nbdkit-rust compiler 1");
  rust_sha256_string (&s, real);
  rust_sha256_string (&s, ident);
  rust_sha256_string (&s, run);
  rust_sha256_final (&s, digest);
  rust_sha256_hex (digest, hex);
  if (asprintf (&file, "%s/%s", dir, hex) == -1) {
    nbdkit_error ("asprintf: %m");
    file = NULL;
    goto out;
  }
  e = rust_cache_entry (file, false);
  if (e == -1)
    goto out;
  if (e == 1) {
    if (rust_read_file (file, &version, &len) == -1)
      version = NULL;
    goto out;
  }
  version = rust_compile_output (what, key, run, cwd);
  if (version && rust_cache_write (file, version, strlen (version)) == -1) {
    free (version);
    version = NULL;
  }

 out:
  free (dir);
  free (file);
  return version;
}

/* Find the TOOL ("rustc" or "cargo") to build a source in SRCDIR: the
 * program CHOSEN (the key KEY's value), else $ENV, else TOOL on $PATH.
 * Fills in *C; returns 0, or -1 after an error.
 */
int
rust_compiler_find (const char *tool, const char *chosen, const char *key,
                    const char *env, const char *srcdir,
                    struct rust_compiler *c)
{
  const char *name = chosen;
  char *found = NULL, *real = NULL, *bin = NULL, *nl;
  struct stat st;

  memset (c, 0, sizeof *c);
  if (name == NULL) {
    name = getenv (env);
    if (name == NULL || name[0] == '\0')
      name = tool;
  }
  if (strchr (name, '/')) {
    found = nbdkit_absolute_path (name);
    if (found == NULL)
      return -1;
    if (stat (found, &st) == -1)
      goto not_found;
    if (!S_ISREG (st.st_mode)) {
      errno = EACCES;
      goto not_found;
    }
    if (access (found, X_OK) == -1)
      goto not_found;
  }
  else {
    found = search_path (name);
    if (found == NULL) {
      errno = ENOENT;
      goto not_found;
    }
    /* (An empty or relative $PATH entry: it is run from elsewhere.) */
    if (found[0] != '/') {
      char *abs = nbdkit_absolute_path (found);

      free (found);
      found = abs;
      if (found == NULL)
        return -1;
    }
  }

  real = realpath (found, NULL);
  if (real == NULL)
    goto not_found;
  {
    const char *base = strrchr (real, '/') + 1;

    if (strcmp (base, "rustup") == 0 || strcmp (base, "rustup-init") == 0) {
      const char *pname = strrchr (found, '/') + 1;

      bin = rustup_binary (pname, srcdir);
      if (bin == NULL) {
        /* Let rustup decide, and ask the result its version. */
        c->run = found;
        found = NULL;
        c->version = rust_compile_output (tool, key, c->run, srcdir);
        goto version;
      }
      free (real);
      real = bin;
      bin = NULL;
    }
  }
  if (stat (real, &st) == -1)
    goto not_found;
  /* rustc runs straight from the toolchain (no proxy to go through);
   * cargo through what the user would run, so that the rustc it runs
   * in turn is the same toolchain's.
   */
  if (strcmp (tool, "rustc") == 0) {
    c->run = real;
    real = NULL;
    c->version = memoised_version (tool, key, c->run, &st, c->run,
                                   srcdir);
  }
  else {
    c->run = found;
    found = NULL;
    c->version = memoised_version (tool, key, real, &st, c->run, srcdir);
  }

 version:
  free (found);
  free (real);
  if (c->version == NULL) {
    rust_compiler_free (c);
    return -1;
  }
  nl = strchr (c->version, '\n');
  c->line = strndup (c->version, nl ? (size_t) (nl - c->version)
                     : strlen (c->version));
  if (c->line == NULL) {
    nbdkit_error ("strndup: %m");
    rust_compiler_free (c);
    return -1;
  }
  return 0;

 not_found:
  nbdkit_error ("cannot run %s: %m (the %s is chosen by %s=PATH, "
                "else $%s, else %s on $PATH)",
                found ? found : name, tool, key, env, tool);
  free (found);
  free (real);
  return -1;
}
