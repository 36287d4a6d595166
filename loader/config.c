/* nbdkit-rust: configuration, --dump-plugin and --help.
 *
 * The loader owns two keys: rust=PATH (also the magic key, so the bare
 * form "nbdkit rust PATH" works) and rust-reload=BOOL.  Every other key
 * belongs to the Rust plugin.  Keys that come before rust= are kept and
 * replayed to the plugin, in order, as soon as it is loaded; later keys
 * go straight through.  All of them stay recorded, so that a new build
 * loaded by rust-reload gets the same keys in the same order.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rust-loader.h"

/* The build new connections get; NULL until rust= is seen. */
struct rust_build *rust_current;

/* The Rust plugin's keys, in command line order, as the plugin got
 * them (a bare parameter under the plugin's magic key).
 */
struct plugin_key {
  char *key;
  char *value;
};
static struct plugin_key *keys;
static size_t nr_keys;

const char rust_config_help[] =
  "rust=PATH         (required) The Rust plugin (.so) to load.\n"
  "                  The key may be left out: nbdkit rust PATH [KEY=VALUE...]\n"
  "rust-reload=BOOL  (default false) Before each new connection, load PATH\n"
  "                  again if the file changed (cargo build): new connections\n"
  "                  get the new build, connections already open keep theirs.\n"
  "                  A new build gets the same KEY=VALUEs in the same order,\n"
  "                  and config_complete, get_ready and after_fork; it may\n"
  "                  not ask for a stricter thread model than the server\n"
  "                  started with.  It does not inherit the old build's\n"
  "                  global state.  If it fails any step, an error is logged\n"
  "                  and the running build stays.  Builds run from private\n"
  "                  copies in $TMPDIR.\n"
  "KEY=VALUE ...     Every other parameter is passed to the Rust plugin.\n"
  "Use 'nbdkit rust rust=PATH --dump-plugin' to show the Rust plugin's own\n"
  "details, including the parameters it takes (rust_plugin_config_help).";

static int
record_key (const char *key, const char *value)
{
  struct plugin_key *p;

  p = realloc (keys, (nr_keys + 1) * sizeof *p);
  if (p == NULL) {
    nbdkit_error ("realloc: %m");
    return -1;
  }
  keys = p;
  p[nr_keys].key = strdup (key);
  p[nr_keys].value = strdup (value);
  if (p[nr_keys].key == NULL || p[nr_keys].value == NULL) {
    nbdkit_error ("strdup: %m");
    free (p[nr_keys].key);
    free (p[nr_keys].value);
    return -1;
  }
  nr_keys++;
  return 0;
}

void
rust_config_free (void)
{
  size_t i;

  for (i = 0; i < nr_keys; i++) {
    free (keys[i].key);
    free (keys[i].value);
  }
  free (keys);
  keys = NULL;
  nr_keys = 0;
}

/* Give one key to a loaded build. */
static int
forward (struct rust_build *build, const char *key, const char *value)
{
  const struct nbdkit_rust_plugin *p = &build->plugin;

  /* Mirrors nbdkit: a plugin without config takes no parameters. */
  if (p->config == NULL) {
    nbdkit_error ("%s: the Rust plugin %s takes no parameters, "
                  "but was given %s", build->path, p->name, key);
    return -1;
  }
  return p->config (key, value);
}

/* Give a build every key recorded so far, in order. */
int
rust_config_replay (struct rust_build *build)
{
  size_t i;

  for (i = 0; i < nr_keys; i++)
    if (forward (build, keys[i].key, keys[i].value) == -1)
      return -1;
  return 0;
}

/* Record a key for the plugin, and give it to the plugin if loaded. */
static int
plugin_key (const char *key, const char *value)
{
  if (record_key (key, value) == -1)
    return -1;
  if (rust_current == NULL)
    return 0;
  return forward (rust_current, key, value);
}

/* Load the plugin named by rust=, then replay the keys given before it. */
static int
load_plugin (const char *path)
{
  if (path[0] == '\0') {
    nbdkit_error ("rust= must not be empty: "
                  "it is the path of the Rust plugin (.so) to load");
    return -1;
  }

  if (rust_reload_watch (path) == -1)
    return -1;
  if (rust_reload)
    rust_current = rust_reload_load_first (path);
  else
    rust_current = rust_build_load (path, NULL);
  if (rust_current == NULL)
    return -1;

  return rust_config_replay (rust_current);
}

int
rust_config (const char *key, const char *value)
{
  const char *magic;
  int r;

  if (strcmp (key, "rust-reload") == 0) {
    r = nbdkit_parse_bool (value);
    if (r == -1) {
      /* nbdkit's own message does not name the key. */
      nbdkit_error ("rust-reload=%s: not a boolean (true or false)", value);
      return -1;
    }
    rust_reload = r;
    return 0;
  }

  if (strcmp (key, "rust") != 0)
    return plugin_key (key, value);

  if (rust_current == NULL)
    return load_plugin (value);

  /* A second bare parameter also arrives as "rust" (our magic key):
   * it is meant for the plugin's own magic key, if it has one.  So
   * does a second rust=, and anything nbdkit does not take for
   * KEY=VALUE (a key that is not [A-Za-z][A-Za-z0-9_.-]*): when the
   * plugin refuses it, say where it went, or the plugin's message
   * names a key the user never wrote.
   */
  magic = rust_current->plugin.magic_config_key;
  if (magic != NULL && magic[0] != '\0') {
    if (plugin_key (magic, value) == -1) {
      nbdkit_error ("%s: a second rust=, or a parameter that is not "
                    "KEY=VALUE, goes to the Rust plugin's magic key %s, "
                    "which refused it", value, magic);
      return -1;
    }
    return 0;
  }

  nbdkit_error ("%s: rust= given twice, or a parameter that is not "
                "KEY=VALUE (%s is already loaded, and the Rust plugin %s "
                "takes no bare parameters)",
                value, rust_current->path, rust_current->plugin.name);
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

  /* Now that every key is known: rust-reload may have come after
   * rust=, and then the first build still maps PATH itself.
   */
  if (rust_reload && rust_reload_start () == -1)
    return -1;

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
          rust_thread_model_name (p->max_thread_model));
  fflush (stdout);

  /* Mirrors nbdkit: without dump_plugin there are no custom fields. */
  if (p->dump_plugin)
    p->dump_plugin ();
}
