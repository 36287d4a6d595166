/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: installed Rust plugins and filters, loaded by name.
 *
 * As nbdkit tells a short plugin name ("memory") from a path, a
 * rust=VALUE (rust-filter=VALUE) with no '/' and no '.' names an
 * installed Rust plugin: RUST_PLUGINDIR/libVALUE.so, beside nbdkit's
 * own plugin directory (RUST_FILTERDIR for filters).  That is where a
 * distribution's packages put Rust plugins (the name cargo gives crate
 * VALUE's cdylib), so `nbdkit rust ramdisk size=1G` serves the
 * installed libramdisk.so.  Anything else is a path, used
 * as given.
 *
 * A name with nothing installed under it is refused at once, with the
 * file looked for and the names that are installed: the user typed a
 * name, and a bare "No such file or directory" would not say where the
 * loader looked.
 */

#define _GNU_SOURCE 1           /* asprintf */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rust-loader.h"

bool
rust_is_name (const char *value)
{
  return value[0] != '\0' && strchr (value, '/') == NULL &&
    strchr (value, '.') == NULL;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names installed in DIRNAME (lib*.so), sorted and separated by
 * ", ", in a new string; "" when there are none or the directory
 * cannot be read.  NULL when out of memory.
 */
static char *
installed_names (const char *dirname)
{
  DIR *dir;
  struct dirent *d;
  char **names = NULL, **p;
  size_t nr = 0, i, len = 1;
  char *list = NULL;

  dir = opendir (dirname);
  if (dir == NULL)
    return strdup ("");
  while ((d = readdir (dir)) != NULL) {
    size_t n = strlen (d->d_name);

    if (n <= strlen ("lib.so") || strncmp (d->d_name, "lib", 3) != 0 ||
        strcmp (d->d_name + n - 3, ".so") != 0)
      continue;
    p = realloc (names, (nr + 1) * sizeof *p);
    if (p == NULL)
      goto out;
    names = p;
    names[nr] = strndup (d->d_name + 3, n - 6);
    if (names[nr] == NULL)
      goto out;
    /* Only what could be loaded by name (not libfoo.bar.so). */
    if (!rust_is_name (names[nr])) {
      free (names[nr]);
      continue;
    }
    len += n - 6 + 2;
    nr++;
  }
  if (nr > 0)                   /* qsort's array must not be NULL */
    qsort (names, nr, sizeof *names, compare_names);
  list = malloc (len);
  if (list == NULL)
    goto out;
  list[0] = '\0';
  for (i = 0; i < nr; i++) {
    if (i > 0)
      strcat (list, ", ");
    strcat (list, names[i]);
  }

 out:
  closedir (dir);
  for (i = 0; i < nr; i++)
    free (names[i]);
  free (names);
  return list;
}

/* KEY=VALUE (rust= or rust-filter=) names the file to load: a path is
 * returned as it is, a name as DIR/libVALUE.so if that exists; both in
 * a new string.  NULL after an error naming VALUE.
 */
char *
rust_name_resolve (const char *key, const char *value, const char *dir)
{
  char *file, *list;

  if (!rust_is_name (value)) {
    file = strdup (value);
    if (file == NULL)
      nbdkit_error ("strdup: %m");
    return file;
  }

  if (asprintf (&file, "%s/lib%s.so", dir, value) == -1) {
    nbdkit_error ("asprintf: %m");
    return NULL;
  }
  if (access (file, F_OK) == 0) {
    nbdkit_debug ("%s=%s: the installed Rust " RUST_KIND " %s",
                  key, value, file);
    return file;
  }
  /* Not "not installed" when the reason is another (a name too long
   * for a file name, a directory that cannot be searched).
   */
  if (errno != ENOENT) {
    nbdkit_error ("%s: cannot look for the installed Rust " RUST_KIND
                  " %s: %m", value, file);
    free (file);
    return NULL;
  }

  list = installed_names (dir);
  if (list == NULL)
    nbdkit_error ("%s: no Rust " RUST_KIND " of that name is installed "
                  "(%s: %m)", value, file);
  else if (list[0] == '\0')
    nbdkit_error ("%s: no Rust " RUST_KIND " of that name is installed "
                  "(no %s), and none is installed in %s; a value with '/' "
                  "or '.' in it is a path (%s=./lib%s.so)",
                  value, file, dir, key, value);
  else
    nbdkit_error ("%s: no Rust " RUST_KIND " of that name is installed "
                  "(no %s); installed: %s; a value with '/' or '.' in it "
                  "is a path (%s=./lib%s.so)",
                  value, file, list, key, value);
  free (list);
  free (file);
  return NULL;
}
