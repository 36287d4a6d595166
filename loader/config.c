/* nbdkit-rust: configuration, --dump-plugin and --help.
 *
 * The loader owns one key, rust=PATH (also the magic key, so the bare
 * form "nbdkit rust PATH" works).  Every other key belongs to the Rust
 * plugin.  Keys that come before rust= are kept and replayed to the
 * plugin, in order, as soon as it is loaded; later keys go straight
 * through.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rust-loader.h"

/* The build new connections get; NULL until rust= is seen. */
struct rust_build *rust_current;

/* Keys given before rust=, in command line order. */
struct buffered_key {
  char *key;
  char *value;
};
static struct buffered_key *buffered;
static size_t nr_buffered;

const char rust_config_help[] =
  "rust=PATH         (required) The Rust plugin (.so) to load.\n"
  "                  The key may be left out: nbdkit rust PATH [KEY=VALUE...]\n"
  "KEY=VALUE ...     Every other parameter is passed to the Rust plugin.\n"
  "Use 'nbdkit rust rust=PATH --dump-plugin' to show the Rust plugin's own\n"
  "details, including the parameters it takes (rust_plugin_config_help).";

static int
buffer_key (const char *key, const char *value)
{
  struct buffered_key *p;

  p = realloc (buffered, (nr_buffered + 1) * sizeof *p);
  if (p == NULL) {
    nbdkit_error ("realloc: %m");
    return -1;
  }
  buffered = p;
  p[nr_buffered].key = strdup (key);
  p[nr_buffered].value = strdup (value);
  if (p[nr_buffered].key == NULL || p[nr_buffered].value == NULL) {
    nbdkit_error ("strdup: %m");
    free (p[nr_buffered].key);
    free (p[nr_buffered].value);
    return -1;
  }
  nr_buffered++;
  return 0;
}

void
rust_config_free (void)
{
  size_t i;

  for (i = 0; i < nr_buffered; i++) {
    free (buffered[i].key);
    free (buffered[i].value);
  }
  free (buffered);
  buffered = NULL;
  nr_buffered = 0;
}

/* Give one key to the loaded plugin. */
static int
forward (const char *key, const char *value)
{
  const struct nbdkit_rust_plugin *p = &rust_current->plugin;

  /* Mirrors nbdkit: a plugin without config takes no parameters. */
  if (p->config == NULL) {
    nbdkit_error ("%s: the Rust plugin %s takes no parameters, "
                  "but was given %s", rust_current->path, p->name, key);
    return -1;
  }
  return p->config (key, value);
}

/* Load the plugin named by rust=, then replay the keys given before it. */
static int
load_plugin (const char *path)
{
  size_t i;
  int r = 0;

  if (path[0] == '\0') {
    nbdkit_error ("rust= must not be empty: "
                  "it is the path of the Rust plugin (.so) to load");
    return -1;
  }

  rust_current = rust_build_load (path);
  if (rust_current == NULL)
    return -1;

  for (i = 0; i < nr_buffered && r == 0; i++)
    r = forward (buffered[i].key, buffered[i].value);
  rust_config_free ();
  return r;
}

int
rust_config (const char *key, const char *value)
{
  const char *magic;

  if (strcmp (key, "rust") != 0) {
    if (rust_current == NULL)
      return buffer_key (key, value);
    return forward (key, value);
  }

  if (rust_current == NULL)
    return load_plugin (value);

  /* A second bare parameter also arrives as "rust" (our magic key):
   * it is meant for the plugin's own magic key, if it has one.
   */
  magic = rust_current->plugin.magic_config_key;
  if (magic != NULL && magic[0] != '\0')
    return forward (magic, value);

  nbdkit_error ("rust= given twice (%s is already loaded, and the Rust "
                "plugin %s takes no bare parameters)",
                rust_current->path, rust_current->plugin.name);
  return -1;
}

int
rust_config_complete (void)
{
  const struct nbdkit_rust_plugin *p;

  if (rust_current == NULL) {
    nbdkit_error ("rust=PATH is required: the Rust plugin (.so) to load");
    return -1;
  }

  p = &rust_current->plugin;
  /* Mirrors nbdkit: without config_complete, configuration succeeds. */
  if (p->config_complete == NULL)
    return 0;
  return p->config_complete ();
}

/* Print KEY=VALUE on one line: --dump-plugin output is parsed line by
 * line, and descriptions and help texts span several.  Backslashes and
 * control characters are written as C escapes.
 */
static void
dump_field (const char *key, const char *value)
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

static const char *
thread_model_name (int model)
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

/* --dump-plugin runs after config and before config_complete, so the
 * Rust plugin is loaded here if rust= was given.
 */
void
rust_dump_plugin (void)
{
  const struct nbdkit_rust_plugin *p;

  printf ("rust_loader_version=%s\n", LOADER_VERSION);
  printf ("rust_loader_abi_version=%d.%d\n",
          NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR);
  if (rust_current == NULL)
    return;

  p = &rust_current->plugin;
  printf ("rust_abi_version=%u.%u\n",
          (unsigned) p->abi_major, (unsigned) p->abi_minor);
  dump_field ("rust_plugin_path", rust_current->path);
  dump_field ("rust_plugin_name", p->name);
  if (p->version)
    dump_field ("rust_plugin_version", p->version);
  if (p->longname)
    dump_field ("rust_plugin_longname", p->longname);
  if (p->description)
    dump_field ("rust_plugin_description", p->description);
  if (p->magic_config_key)
    dump_field ("rust_plugin_magic_config_key", p->magic_config_key);
  if (p->config_help)
    dump_field ("rust_plugin_config_help", p->config_help);
  dump_field ("rust_sdk_version", p->sdk_version ? p->sdk_version : "");
  printf ("rust_plugin_thread_model=%s\n",
          thread_model_name (p->max_thread_model));
  fflush (stdout);

  /* Mirrors nbdkit: without dump_plugin there are no custom fields. */
  if (p->dump_plugin)
    p->dump_plugin ();
}
