/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: configuration, --dump-plugin and --help.
 *
 * The loader owns rust=PATH (also the magic key, so the bare form
 * "nbdkit rust PATH" works), rust-reload=BOOL, and the keys that say
 * how a plugin given as source is built (source-keys.c: rust-profile,
 * rust-rustc, rust-cargo, rust-sdk, rust-registry).  Every other key
 * belongs to the Rust plugin.  When rust=PATH is a .rs file or a crate
 * directory, it is built (or found in the build cache) as it is
 * loaded, before nbdkit forks (source.c).
 *
 * nbdkit hands over the keys one by one, and the loader only records
 * them: until the last one it cannot know whether rust-reload=true is
 * among them, which changes where the plugin is mapped from.  Once
 * they are all known (config_complete, or for --dump-plugin the first
 * of thread_model and dump_plugin, which nbdkit calls after the keys
 * and instead of config_complete), the plugin is loaded once and given
 * its keys in command line order.  They stay recorded, so that a new
 * build loaded by rust-reload gets the same keys in the same order.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rust-loader.h"

/* rust=PATH, the first one; NULL until seen. */
static char *path;

/* rust-reload=BOOL. */
static bool reload;

/* The Rust plugin's keys, in command line order.  A bare parameter
 * after the path arrives as a second rust= (the loader's magic key):
 * it goes to the plugin's magic key, which is only known once the
 * plugin is loaded, so it is kept as it came (bare).
 */
struct plugin_key {
  char *key;                    /* NULL for a bare parameter */
  char *value;
};
static struct plugin_key *keys;
static size_t nr_keys;

/* What rust=PATH was built from, when it is a source (source.c). */
static struct rust_source source;

/* Whether the plugin was loaded and took its keys. */
static enum { NOT_LOADED, LOADED, LOAD_FAILED } load_state;

const char rust_config_help[] =
  "rust=PATH         (required) The Rust plugin to load: a built library\n"
  "                  (.so), a .rs file (compiled, and cached), or a crate\n"
  "                  directory (built with cargo).\n"
  "                  The key may be left out: nbdkit rust PATH [KEY=VALUE...]\n"
  "rust=NAME         A name (no '/', no '.') loads the installed plugin\n"
  "                  " RUST_PLUGINDIR "/libNAME.so\n"
  "rust-reload=BOOL  (default false) Before each new connection, load PATH\n"
  "                  again if the file changed (cargo build): new connections\n"
  "                  get the new build, connections already open keep theirs.\n"
  "                  A new build gets the same KEY=VALUEs in the same order,\n"
  "                  and config_complete, get_ready and after_fork; it may\n"
  "                  not ask for a stricter thread model than the server\n"
  "                  started with.  It does not inherit the old build's\n"
  "                  global state.  If it fails any step, an error is logged\n"
  "                  and the running build stays.  A file that changed in\n"
  "                  the last 200 ms is still being written: it is loaded\n"
  "                  at a later connection.  Builds run from private\n"
  "                  copies in $TMPDIR, which must allow executables.\n"
  "                  A source is watched, and rebuilt when it changes; a\n"
  "                  failed build keeps the running build in service.\n"
  RUST_SOURCE_HELP
  "KEY=VALUE ...     Every other parameter is passed to the Rust plugin.\n"
  "Use 'nbdkit rust rust=PATH --dump-plugin' to show the Rust plugin's own\n"
  "details, including the parameters it takes (rust_plugin_config_help).";

/* KEY is NULL for a bare parameter. */
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
  p[nr_keys].key = key ? strdup (key) : NULL;
  p[nr_keys].value = strdup (value);
  if ((key && p[nr_keys].key == NULL) || p[nr_keys].value == NULL) {
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
  free (path);
  path = NULL;
  reload = false;
  load_state = NOT_LOADED;
  rust_source_clear (&source);
  rust_source_options_free ();
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

/* A second bare parameter also arrives as "rust" (our magic key): it
 * is meant for the plugin's own magic key, if it has one.  So does a
 * second rust=, and anything nbdkit does not take for KEY=VALUE (a key
 * that is not [A-Za-z][A-Za-z0-9_.-]*): when the plugin refuses it,
 * say where it went, or the plugin's message names a key the user
 * never wrote.
 */
static int
forward_bare (struct rust_build *build, const char *value)
{
  const char *magic = build->plugin.magic_config_key;

  if (magic != NULL && magic[0] != '\0') {
    if (forward (build, magic, value) == -1) {
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
                value, build->path, build->plugin.name);
  return -1;
}

/* Give a build every key recorded, in order. */
int
rust_config_replay (struct rust_build *build)
{
  size_t i;
  int r;

  for (i = 0; i < nr_keys; i++) {
    if (keys[i].key)
      r = forward (build, keys[i].key, keys[i].value);
    else
      r = forward_bare (build, keys[i].value);
    if (r == -1)
      return -1;
  }
  return 0;
}

int
rust_config (const char *key, const char *value)
{
  int r;

  if (strcmp (key, "rust-reload") == 0) {
    r = nbdkit_parse_bool (value);
    if (r == -1) {
      /* nbdkit's own message does not name the key. */
      nbdkit_error ("rust-reload=%s: not a boolean (true or false)", value);
      return -1;
    }
    reload = r;
    return 0;
  }

  /* rust-profile, rust-rustc, ...: how a source is built. */
  r = rust_source_config (key, value);
  if (r != 0)
    return r == -1 ? -1 : 0;

  if (strcmp (key, "rust") != 0)
    return record_key (key, value);

  if (path != NULL)
    return record_key (NULL, value);

  if (value[0] == '\0') {
    nbdkit_error ("rust= must not be empty: "
                  "it is the path of the Rust plugin (.so) to load");
    return -1;
  }
  /* rust=NAME: the installed plugin (names.c). */
  path = rust_name_resolve ("rust", value, RUST_PLUGINDIR);
  if (path == NULL)
    return -1;
  return 0;
}

/* Load the plugin at rust=PATH and give it its keys, once every key is
 * known; at most once (with --dump-plugin both thread_model and
 * dump_plugin ask).  Without rust= there is nothing to load, and the
 * caller decides whether that is an error.  Returns 0, or -1 after an
 * error, and again -1 if asked again after that.
 */
int
rust_config_load (void)
{
  struct rust_build *build;
  int kind;

  if (load_state != NOT_LOADED)
    return load_state == LOADED ? 0 : -1;
  if (path == NULL)
    return 0;

  load_state = LOAD_FAILED;
  kind = rust_source_kind (path);
  if (kind == -1)
    return -1;
  if (kind != RUST_SOURCE_LIBRARY) {
    /* A source: built (or found in the build cache) now, before
     * nbdkit forks into the background.
     */
    if (reload)
      build = rust_reload_load_first_source (path, kind, &source);
    else if (rust_source_build (path, kind, &source) == -1)
      build = NULL;
    else
      build = rust_build_load_built (path, source.lib);
  }
  else if (reload)
    build = rust_reload_load_first (path);
  else
    build = rust_build_load (path, NULL);
  if (build == NULL)
    return -1;
  rust_builds_set_first (build);
  if (rust_config_replay (build) == -1)
    return -1;
  load_state = LOADED;
  return 0;
}

int
rust_config_complete (void)
{
  const struct nbdkit_rust_plugin *p;

  if (path == NULL) {
    nbdkit_error ("rust=PATH is required: the Rust plugin (.so) to load, "
                  "or its source (a .rs file or a crate directory)");
    return -1;
  }
  if (rust_config_load () == -1)
    return -1;
  if (reload && rust_builds_start_reload () == -1)
    return -1;

  p = &rust_builds_current ()->plugin;
  /* Mirrors nbdkit: without config_complete, configuration succeeds. */
  if (p->config_complete == NULL)
    return 0;
  return p->config_complete ();
}

/* nbdkit's dump_plugin cannot fail, but a plugin that failed to load
 * or to dump its fields must not end in exit status 0: the loader
 * exits itself, after what was printed so far.
 */
static void __attribute__ ((__noreturn__))
dump_failed (void)
{
  fflush (stdout);
  exit (EXIT_FAILURE);
}

/* --dump-plugin runs after config and instead of config_complete, so
 * the Rust plugin is loaded here (if nbdkit's thread_model did not
 * already) when rust= was given.
 */
void
rust_dump_plugin (void)
{
  const struct nbdkit_rust_plugin *p;
  struct rust_build *build;
  char callbacks[RUST_CALLBACKS_MAX];

  printf ("rust_loader_version=%s\n", LOADER_VERSION);
  printf ("rust_loader_abi_version=%d.%d\n",
          NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR);
  if (path == NULL)
    return;
  if (rust_config_load () == -1)
    dump_failed ();

  build = rust_builds_current ();
  p = &build->plugin;
  printf ("rust_abi_version=%u.%u\n",
          (unsigned) p->abi_major, (unsigned) p->abi_minor);
  if (source.source) {
    rust_dump_field ("rust_plugin_source", source.source);
    rust_dump_field ("rust_plugin_path", source.lib);
    rust_dump_field ("rust_compiler", source.compiler);
    rust_dump_field ("rust_compiler_path", source.compiler_path);
    rust_dump_field ("rust_build_profile", source.profile);
  }
  else
    rust_dump_field ("rust_plugin_path", build->path);
  rust_dump_field ("rust_plugin_name", p->name);
  if (p->version)
    rust_dump_field ("rust_plugin_version", p->version);
  if (p->longname)
    rust_dump_field ("rust_plugin_longname", p->longname);
  if (p->description)
    rust_dump_field ("rust_plugin_description", p->description);
  if (p->magic_config_key)
    rust_dump_field ("rust_plugin_magic_config_key", p->magic_config_key);
  if (p->config_help)
    rust_dump_field ("rust_plugin_config_help", p->config_help);
  rust_dump_field ("rust_sdk_version", p->sdk_version ? p->sdk_version : "");
  printf ("rust_plugin_thread_model=%s\n",
          rust_thread_model_name (p->max_thread_model));
  printf ("rust_plugin_callbacks=%s\n",
          rust_descriptor_callbacks (p, callbacks));
  fflush (stdout);

  /* ABI 1.1: a dump_plugin that can fail; its 1.0 twin is not called
   * then.  Mirrors nbdkit: without either, no custom fields.
   */
  if (p->dump_plugin_checked) {
    if (p->dump_plugin_checked () == -1) {
      nbdkit_error ("%s: the plugin's dump_plugin failed",
                    build->path);
      dump_failed ();
    }
  }
  else if (p->dump_plugin)
    p->dump_plugin ();
}
