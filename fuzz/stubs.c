/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust fuzzing: stand-ins for the nbdkit functions the loader's
 * pure code calls, and helpers shared by the harnesses.
 *
 * This is a unit harness: nbdkit is not there, so nbdkit_error and
 * friends are recorded and checked instead of logged.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"

size_t fuzz_errors;
char *fuzz_last_error;
bool fuzz_plain_messages;

void
fuzz_fail (const char *file, int line, const char *what)
{
  fprintf (stderr, "%s:%d: fuzz assertion failed: %s\n", file, line, what);
  if (fuzz_last_error)
    fprintf (stderr, "last nbdkit_error: %s\n", fuzz_last_error);
  abort ();
}

void
fuzz_reset (void)
{
  fuzz_errors = 0;
  free (fuzz_last_error);
  fuzz_last_error = NULL;
}

/* nbdkit's log is line-based: a message is one line of text. */
static void
check_message (const char *msg)
{
  const unsigned char *s;

  if (!fuzz_plain_messages)
    return;
  for (s = (const unsigned char *) msg; *s; s++)
    FUZZ_ASSERT (*s >= 0x20 && *s != 0x7f);
}

static char *
format (const char *fs, va_list args)
{
  char *msg;

  if (vasprintf (&msg, fs, args) == -1)
    abort ();
  return msg;
}

void
nbdkit_verror (const char *fs, va_list args)
{
  char *msg = format (fs, args);

  check_message (msg);
  fuzz_errors++;
  free (fuzz_last_error);
  fuzz_last_error = msg;
}

void
nbdkit_error (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  nbdkit_verror (fs, args);
  va_end (args);
}

void
nbdkit_debug (const char *fs, ...)
{
  va_list args;
  char *msg;

  va_start (args, fs);
  msg = format (fs, args);
  va_end (args);
  check_message (msg);
  free (msg);
}

/* The rest of the loader, as config.c sees it, for the harnesses that
 * do not stand in for it themselves (the config fuzzer does): the
 * build the plugin loads as is fuzz_next_build.
 */
struct rust_build *fuzz_next_build;
static struct rust_build *current;

__attribute__ ((weak)) struct rust_build *
rust_build_load (const char *path, const char *file)
{
  (void) path;
  FUZZ_ASSERT (file == NULL);
  FUZZ_ASSERT (fuzz_next_build != NULL);
  return fuzz_next_build;
}

__attribute__ ((weak)) struct rust_build *
rust_reload_load_first (const char *path)
{
  (void) path;
  abort ();
}

__attribute__ ((weak)) int
rust_builds_start_reload (void)
{
  abort ();
}

/* Plugins from source (loader/source*.c) are not fuzzed here: every
 * rust=PATH is a built library, and the source keys are the plugin's,
 * so the harnesses' models are as they were.
 */
int
rust_source_config (const char *key, const char *value)
{
  (void) key; (void) value;
  return 0;
}

void
rust_source_options_free (void)
{
}

int
rust_source_kind (const char *path)
{
  (void) path;
  return RUST_SOURCE_LIBRARY;
}

int
rust_source_build (const char *path, int kind, struct rust_source *out)
{
  (void) path; (void) kind; (void) out;
  abort ();
}

void
rust_source_clear (struct rust_source *s)
{
  (void) s;
}

struct rust_build *
rust_build_load_built (const char *path, const char *lib)
{
  (void) path; (void) lib;
  abort ();
}

struct rust_build *
rust_reload_load_first_source (const char *path, int kind,
                               struct rust_source *source)
{
  (void) path; (void) kind; (void) source;
  abort ();
}

struct rust_build *
rust_builds_current (void)
{
  return current;
}

void
rust_builds_set_first (struct rust_build *build)
{
  current = build;
}

/* nbdkit's grammar (nbdkit_parse_bool(3)). */
int
nbdkit_parse_bool (const char *str)
{
  static const char *const yes[] = { "1", "true", "t", "yes", "y", "on" };
  static const char *const no[] = { "0", "false", "f", "no", "n", "off" };
  size_t i;

  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp (str, yes[i]) == 0)
      return 1;
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strcasecmp (str, no[i]) == 0)
      return 0;
  nbdkit_error ("could not decipher boolean (%s)", str);
  return -1;
}

char *
fuzz_dump_plugin (void)
{
  FILE *saved = stdout;
  char *out = NULL;
  size_t len = 0;
  const char *line, *end;

  stdout = open_memstream (&out, &len);
  if (stdout == NULL)
    abort ();
  rust_dump_plugin ();
  fclose (stdout);
  stdout = saved;

  /* Parsed line by line by whoever reads it: KEY=VALUE, and nothing
   * inside a line that ends or garbles it.
   */
  for (line = out; *line; line = end + 1) {
    const char *p;

    end = strchr (line, '\n');
    FUZZ_ASSERT (end != NULL);
    FUZZ_ASSERT (memchr (line, '=', end - line) != NULL);
    for (p = line; p < end; p++)
      FUZZ_ASSERT ((unsigned char) *p >= 0x20 && *p != 0x7f);
  }
  FUZZ_ASSERT (strlen (out) == len);
  return out;
}

static int
hex (int c)
{
  return isdigit (c) ? c - '0' : tolower (c) - 'a' + 10;
}

char *
fuzz_dump_value (const char *dump, const char *key)
{
  size_t klen = strlen (key);
  const char *line, *end, *p;
  char *value, *v;

  for (line = dump; *line; line = end + 1) {
    end = strchr (line, '\n');
    if ((size_t) (end - line) > klen && strncmp (line, key, klen) == 0 &&
        line[klen] == '=')
      break;
  }
  if (*line == '\0')
    return NULL;

  /* Undo dump_field's escapes: \n, \\ and \xNN. */
  value = v = malloc (end - line + 1);
  if (value == NULL)
    abort ();
  for (p = line + klen + 1; p < end; p++) {
    if (*p != '\\') {
      *v++ = *p;
      continue;
    }
    p++;
    FUZZ_ASSERT (p < end);
    if (*p == 'n')
      *v++ = '\n';
    else if (*p == '\\')
      *v++ = '\\';
    else {
      FUZZ_ASSERT (*p == 'x' && p + 2 < end + 1 &&
                   isxdigit ((unsigned char) p[1]) &&
                   isxdigit ((unsigned char) p[2]));
      *v++ = hex ((unsigned char) p[1]) * 16 + hex ((unsigned char) p[2]);
      p += 2;
    }
  }
  *v = '\0';
  return value;
}
