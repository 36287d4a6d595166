/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: a single-file plugin's dependencies, and what cargo
 * reports it built.
 *
 * A .rs file may declare dependencies the way rust-script does, in a
 * fenced block of its leading //! doc comment:
 *
 *     //! ```cargo
 *     //! [dependencies]
 *     //! lazy_static = "1"
 *     //! ```
 *
 * (a block that starts with a key rather than a [table] is the
 * [dependencies] table).  Such a file is built by cargo, from a
 * manifest the loader writes around the block.
 */

#define _GNU_SOURCE 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

/* A line of SRC from P, its length in *LEN; the next line in *NEXT. */
static const char *
next_line (const char *p, const char *end, size_t *len, const char **next)
{
  const char *nl = memchr (p, '\n', end - p);

  *len = nl ? (size_t) (nl - p) : (size_t) (end - p);
  *next = nl ? nl + 1 : end;
  return p;
}

static bool
starts (const char *line, size_t len, const char *prefix)
{
  size_t n = strlen (prefix);

  return len >= n && memcmp (line, prefix, n) == 0;
}

/* LINE without its //! marker and one space, and without trailing
 * whitespace.
 */
static const char *
doc_text (const char *line, size_t *len)
{
  line += 3;
  *len -= 3;
  if (*len && *line == ' ') {
    line++;
    (*len)--;
  }
  while (*len && (line[*len - 1] == ' ' || line[*len - 1] == '\t' ||
                  line[*len - 1] == '\r'))
    (*len)--;
  return line;
}

/* The ```cargo block of the source SRC (LEN bytes) at PATH: *BLOCK is
 * its text, or NULL if it has none.  Returns 0, or -1 after an error
 * (a block that is not closed).
 */
int
rust_cargo_block (const char *path, const char *src, size_t len,
                  char **block)
{
  const char *p = src, *end = src + len, *next, *line;
  size_t n;
  char *text = NULL;
  size_t tlen = 0;
  bool in_docs = false;

  *block = NULL;
  /* A #! line, but not an inner attribute #![...]. */
  if (len >= 2 && p[0] == '#' && p[1] == '!' && (len < 3 || p[2] != '[')) {
    next_line (p, end, &n, &next);
    p = next;
  }
  /* Plain comments and blank lines before the doc comment. */
  for (; p < end; p = next) {
    line = next_line (p, end, &n, &next);
    while (n && (line[0] == ' ' || line[0] == '\t')) {
      line++;
      n--;
    }
    if (starts (line, n, "//!")) {
      const char *t = doc_text (line, &n);

      in_docs = true;
      if (n == 8 && memcmp (t, "```cargo", 8) == 0)
        break;
      continue;
    }
    if (in_docs)
      return 0;
    if (n == 0 || (n == 1 && line[0] == '\r') ||
        (starts (line, n, "//") && !starts (line, n, "///")))
      continue;
    return 0;
  }
  if (p >= end)
    return 0;

  /* The block, up to its closing fence. */
  text = strdup ("");
  if (text == NULL)
    goto nomem;
  for (p = next; p < end; p = next) {
    const char *t;
    char *q;

    line = next_line (p, end, &n, &next);
    while (n && (line[0] == ' ' || line[0] == '\t')) {
      line++;
      n--;
    }
    if (!starts (line, n, "//!"))
      break;
    t = doc_text (line, &n);
    if (n >= 3 && memcmp (t, "```", 3) == 0) {
      *block = text;
      return 0;
    }
    q = realloc (text, tlen + n + 2);
    if (q == NULL)
      goto nomem;
    text = q;
    memcpy (text + tlen, t, n);
    tlen += n;
    text[tlen++] = '\n';
    text[tlen] = '\0';
  }
  free (text);
  nbdkit_error ("%s: the //! ```cargo block is not closed: end it with a "
                "//! ``` line", path);
  return -1;

 nomem:
  free (text);
  nbdkit_error ("malloc: %m");
  return -1;
}

/* Append S to the string *P. */
static int
add (char **p, const char *s)
{
  size_t a = *p ? strlen (*p) : 0, b = strlen (s);
  char *q = realloc (*p, a + b + 1);

  if (q == NULL)
    return -1;
  memcpy (q + a, s, b + 1);
  *p = q;
  return 0;
}

/* S as a TOML basic string, quotes included. */
static int
add_quoted (char **p, const char *s)
{
  char one[8];

  if (add (p, "\"") == -1)
    return -1;
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      snprintf (one, sizeof one, "\\%c", *s);
    else if ((unsigned char) *s < 0x20)
      snprintf (one, sizeof one, "\\u%04x", (unsigned char) *s);
    else
      snprintf (one, sizeof one, "%c", *s);
    if (add (p, one) == -1)
      return -1;
  }
  return add (p, "\"");
}

/* Whether BLOCK declares the nbdkit crate itself (another SDK). */
static bool
declares_nbdkit (const char *block)
{
  const char *p;

  for (p = block; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL) {
    const char *l = p + strspn (p, " \t");

    if (strncmp (l, "[dependencies.nbdkit]", 21) == 0)
      return true;
    if (strncmp (l, "nbdkit", 6) == 0) {
      const char *q = l + 6 + strspn (l + 6, " \t");

      if (*q == '=')
        return true;
    }
  }
  return false;
}

/* The manifest of the package NAME whose cdylib is the file FILE, with
 * the ```cargo BLOCK and the SDK at SDK; NULL after an error.
 */
char *
rust_cargo_manifest (const char *name, const char *file, const char *block,
                     const char *sdk)
{
  const char *b = block + strspn (block, " \t\n");
  char *m = NULL;
  int r = 0;

  r |= add (&m, "# Written by nbdkit's Rust loader for a //! ```cargo "
            "block.\n[package]\nname = ");
  r |= add_quoted (&m, name);
  r |= add (&m, "\nversion = \"0.0.0\"\nedition = \"2021\"\n"
            "publish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\npath = ");
  r |= add_quoted (&m, file);
  r |= add (&m, "\n\n");
  /* A block that starts with a key is the [dependencies] table. */
  if (*b != '[' && *b != '\0')
    r |= add (&m, "[dependencies]\n");
  r |= add (&m, block);
  if (!declares_nbdkit (block)) {
    r |= add (&m, "\n[dependencies.nbdkit]\npath = ");
    r |= add_quoted (&m, sdk);
    r |= add (&m, "\n");
  }
  /* As source.c compiles a single file without a block: one code
   * generation unit, no debug information in the release library
   * (unless the block has profiles of its own).
   */
  if (strstr (block, "[profile") == NULL)
    r |= add (&m, "\n[profile.release]\ncodegen-units = 1\n"
              "strip = \"debuginfo\"\n");
  r |= add (&m, "\n[workspace]\n");
  if (r) {
    nbdkit_error ("malloc: %m");
    free (m);
    return NULL;
  }
  return m;
}

/* The JSON string starting at P (after its opening quote), decoded
 * into a new string; *END after its closing quote.
 */
static char *
json_string (const char *p, const char **end)
{
  char *s = malloc (strlen (p) + 1), *q = s;

  if (s == NULL)
    return NULL;
  while (*p && *p != '"') {
    if (*p == '\\' && p[1]) {
      p++;
      switch (*p) {
      case 'n': *q++ = '\n'; break;
      case 't': *q++ = '\t'; break;
      default: *q++ = *p;       /* \" \\ \/ (paths have no \u) */
      }
      p++;
    }
    else
      *q++ = *p++;
  }
  *q = '\0';
  *end = *p ? p + 1 : p;
  return s;
}

/* The value of "KEY":"..." in LINE, or NULL. */
static char *
json_field (const char *line, const char *key)
{
  char pat[64];
  const char *p, *end;

  snprintf (pat, sizeof pat, "\"%s\":\"", key);
  p = strstr (line, pat);
  if (p == NULL)
    return NULL;
  return json_string (p + strlen (pat), &end);
}

/* The cdylib cargo built, from its --message-format=json output JSON:
 * the one of the package whose manifest is MANIFEST, else the only
 * one.  PATH names the source in messages.  NULL after an error.
 */
char *
rust_cargo_artifact (const char *path, const char *json,
                     const char *manifest)
{
  char *only = NULL, *mine = NULL;
  unsigned count = 0;
  const char *line, *next;

  for (line = json; line && *line; line = next) {
    const char *nl = strchr (line, '\n'), *f, *end;
    char *l, *mp, *so = NULL;

    next = nl ? nl + 1 : NULL;
    l = nl ? strndup (line, nl - line) : strdup (line);
    if (l == NULL)
      break;
    if (strstr (l, "\"reason\":\"compiler-artifact\"") == NULL ||
        (f = strstr (l, "\"crate_types\":[")) == NULL ||
        (end = strchr (f, ']')) == NULL ||
        memmem (f, end - f, "\"cdylib\"", 8) == NULL ||
        (f = strstr (l, "\"filenames\":[")) == NULL) {
      free (l);
      continue;
    }
    for (f += 13; *f == '"' || *f == ','; ) {
      char *s;

      if (*f == ',') {
        f++;
        continue;
      }
      s = json_string (f + 1, &f);
      if (s && strlen (s) > 3 && strcmp (s + strlen (s) - 3, ".so") == 0) {
        free (so);
        so = s;
      }
      else
        free (s);
    }
    if (so) {
      count++;
      mp = json_field (l, "manifest_path");
      if (mp && manifest && strcmp (mp, manifest) == 0) {
        free (mine);
        mine = strdup (so);
      }
      free (mp);
      free (only);
      only = so;
    }
    free (l);
  }
  if (mine) {
    free (only);
    return mine;
  }
  if (count == 1)
    return only;
  free (only);
  if (count == 0)
    nbdkit_error ("%s: cargo built no cdylib: a Rust plugin crate needs "
                  "[lib] crate-type = [\"cdylib\"] in its Cargo.toml",
                  path);
  else
    nbdkit_error ("%s: cargo built %u cdylibs and none is the package's "
                  "own: give the plugin's crate directory", path, count);
  return NULL;
}
