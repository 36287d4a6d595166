/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: --dump-plugin's KEY=VALUE lines.
 *
 * Shared by both loaders: the plugin loader prints its rust_plugin_*
 * fields from nbdkit's dump_plugin (config.c), the filter loader its
 * rust_filter_* fields during configuration (filter-config.c), and
 * scripts parse both the same way.
 */

#include <stdio.h>

#include "rust-loader.h"

/* Print KEY=VALUE on one line: --dump-plugin output is parsed line by
 * line, and descriptions and help texts span several.  Backslashes and
 * control characters are written as C escapes.
 */
void
rust_dump_field (const char *key, const char *value)
{
  const unsigned char *s;

  printf ("%s=", key);
  for (s = (const unsigned char *) value; *s; s++) {
    if (*s == '\n')
      fputs ("\\n", stdout);
    else if (*s == '\\')
      fputs ("\\\\", stdout);
    else if (*s < 0x20 || *s == 0x7f)
      printf ("\\x%02x", *s);
    else
      putchar (*s);
  }
  putchar ('\n');
}

const char *
rust_thread_model_name (int model)
{
  switch (model) {
  case NBDKIT_THREAD_MODEL_SERIALIZE_CONNECTIONS:
    return "serialize_connections";
  case NBDKIT_THREAD_MODEL_SERIALIZE_ALL_REQUESTS:
    return "serialize_all_requests";
  case NBDKIT_THREAD_MODEL_SERIALIZE_REQUESTS:
    return "serialize_requests";
  case NBDKIT_THREAD_MODEL_PARALLEL:
    return "parallel";
  default:
    return "unknown";
  }
}
