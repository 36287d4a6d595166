/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the filter loader's keys, --dump-plugin and --help.
 *
 * KEY ROUTING.  nbdkit hands every KEY=VALUE to the outermost filter
 * first, and a filter passes on the keys it does not take (next).  Each
 * --filter=rust, outermost first, takes the first rust-filter=PATH that
 * reaches it and loads that Rust filter at once, so that the keys after
 * it reach the Rust filter in command line order:
 *
 *   - keys before its rust-filter= are passed on to the layers below
 *     (the instance has no Rust filter to give them to yet);
 *   - keys after it go to its Rust filter, which passes on those it
 *     does not take (as nbdkit does for a C filter without config,
 *     when the Rust filter has no config);
 *   - a further rust-filter= is passed on without asking the Rust
 *     filter: it is the loader's key, for the next --filter=rust below
 *     (or, if there is none, for the plugin, which refuses it).
 *
 * So `nbdkit --filter=rust --filter=rust PLUGIN rust-filter=A a=1
 * rust-filter=B b=2` gives A to the outer instance, B to the inner
 * one, and a=1 and b=2 to A, which passes on those it does not take
 * to the layers below, B among them.  As with nbdkit's C filters, the
 * same Rust filter given twice sees every key first in its outer
 * instance.
 *
 * --DUMP-PLUGIN.  nbdkit 1.32 gives filters no dump hook: it prints the
 * plugin's fields only.  So when nbdkit was started with --dump-plugin
 * (read from /proc/self/cmdline), each instance prints its
 * rust_filter_* fields itself as its Rust filter loads, during
 * configuration, which nbdkit runs before it dumps the plugin.
 */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"

const char rust_filter_config_help[] =
  "rust-filter=PATH  (required) The Rust filter (.so) this --filter=rust\n"
  "                  loads.  A name (no '/', no '.') loads the installed\n"
  "                  filter " RUST_FILTERDIR "/libNAME.so\n"
  "KEY=VALUE ...     nbdkit hands every parameter to the outermost filter\n"
  "                  first.  Each --filter=rust, outermost first, takes the\n"
  "                  first rust-filter=PATH that reaches it.  Parameters\n"
  "                  before it are passed on to the layers below; those\n"
  "                  after it go to its Rust filter, which passes on the\n"
  "                  ones it does not take.  A further rust-filter= is\n"
  "                  passed on to the next --filter=rust below.\n"
  "Use --dump-plugin to show each Rust filter's own details, including the\n"
  "parameters it takes (rust_filter_config_help).";

/* How many instances config_complete has reached: nbdkit calls it
 * outermost first, so this numbers an instance that no key reached.
 */
static unsigned config_completes;

/* The longest command line read for --dump-plugin. */
#define CMDLINE_MAX (1024 * 1024)

/* Whether ARG asks getopt_long for --dump-plugin: the option, or an
 * abbreviation of it that no other nbdkit option shares
 * (--dump-config begins the same, up to "--dump-").
 */
static bool
is_dump_plugin (const char *arg)
{
  const char option[] = "--dump-plugin";
  size_t n = strlen (arg);

  return n >= strlen ("--dump-p") && n < sizeof option &&
    strncmp (arg, option, n) == 0;
}

/* Whether nbdkit was started with --dump-plugin.  The options come
 * before "--" (getopt_long may take them from anywhere before it).  An
 * option's argument that reads "--dump-plugin" would fool this, and
 * without /proc there are no rust_filter_* lines: nbdkit gives filters
 * no better way to know.
 */
static bool
dumping (void)
{
  static int answer = -1;
  char *buf;
  ssize_t n, len = 0;
  int fd;

  if (answer != -1)
    return answer;
  answer = 0;

  buf = malloc (CMDLINE_MAX + 1);
  if (buf == NULL)
    return false;
  fd = open ("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    nbdkit_debug ("/proc/self/cmdline: %m: no rust_filter_* lines "
                  "with --dump-plugin");
    free (buf);
    return false;
  }
  while (len < CMDLINE_MAX &&
         (n = read (fd, buf + len, CMDLINE_MAX - len)) > 0)
    len += n;
  close (fd);
  buf[len] = '\0';

  for (ssize_t i = 0; i < len; i += strlen (buf + i) + 1) {
    if (strcmp (buf + i, "--") == 0)
      break;
    if (is_dump_plugin (buf + i)) {
      answer = 1;
      break;
    }
  }
  free (buf);
  return answer;
}

/* INST's fields for --dump-plugin, one KEY=VALUE a line; each Rust
 * filter's begin with rust_filter_name.
 */
static void
dump_filter (const struct rust_filter_instance *inst)
{
  static bool loader_dumped;
  const struct nbdkit_rust_filter *f = &inst->filter;
  char callbacks[RUST_CALLBACKS_MAX];

  if (!loader_dumped) {
    printf ("rust_filter_loader_version=%s\n", LOADER_VERSION);
    printf ("rust_filter_loader_abi_version=%d.%d\n",
            NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR);
    loader_dumped = true;
  }
  rust_dump_field ("rust_filter_name", f->name);
  rust_dump_field ("rust_filter_path", inst->path);
  printf ("rust_filter_abi_version=%" PRIu32 ".%" PRIu32 "\n",
          f->abi_major, f->abi_minor);
  rust_dump_field ("rust_filter_sdk_version",
                   f->sdk_version ? f->sdk_version : "");
  if (f->version)
    rust_dump_field ("rust_filter_version", f->version);
  if (f->longname)
    rust_dump_field ("rust_filter_longname", f->longname);
  if (f->description)
    rust_dump_field ("rust_filter_description", f->description);
  if (f->config_help)
    rust_dump_field ("rust_filter_config_help", f->config_help);
  printf ("rust_filter_thread_model=%s\n",
          rust_thread_model_name (f->max_thread_model));
  printf ("rust_filter_callbacks=%s\n",
          rust_filter_descriptor_callbacks (f, callbacks));
}

/* rust-filter=PATH reached INST, which has no Rust filter yet. */
static int
load (struct rust_filter_instance *inst, const char *path)
{
  char *file;
  int r;

  if (path[0] == '\0') {
    nbdkit_error ("rust-filter= must not be empty: "
                  "it is the path of the Rust filter (.so) to load");
    return -1;
  }
  /* rust-filter=NAME: the installed filter (names.c). */
  file = rust_name_resolve ("rust-filter", path, RUST_FILTERDIR);
  if (file == NULL)
    return -1;
  r = rust_filter_instance_load (inst, file);
  free (file);
  if (r == -1)
    return -1;
  if (dumping ())
    dump_filter (inst);
  return 0;
}

int
rust_filter_config (nbdkit_next_config *next, nbdkit_backend *nxdata,
                    const char *key, const char *value)
{
  struct rust_filter_instance *inst = rust_filter_instance_of (nxdata);
  struct nbdkit_rust_next_call call = {
    .kind = RUST_NEXT_CONFIG, .nxdata = nxdata, .fn.config = next,
  };
  bool is_path = strcmp (key, "rust-filter") == 0;

  if (inst == NULL) {
    inst = rust_filter_instance_add (nxdata);
    if (inst == NULL)
      return -1;
  }

  if (inst->dl == NULL) {
    if (is_path)
      return load (inst, value);
    /* Before rust-filter=: for the layers below. */
    return next (nxdata, key, value);
  }

  /* Mirrors nbdkit: a filter without config passes every key on. */
  if (is_path || inst->filter.config == NULL)
    return next (nxdata, key, value);
  return inst->filter.config (&call, key, value);
}

int
rust_filter_config_complete (nbdkit_next_config_complete *next,
                             nbdkit_backend *nxdata)
{
  struct rust_filter_instance *inst = rust_filter_instance_of (nxdata);
  struct nbdkit_rust_next_call call = {
    .kind = RUST_NEXT_CONFIG_COMPLETE, .nxdata = nxdata,
    .fn.config_complete = next,
  };
  unsigned number = ++config_completes;

  if (inst == NULL || inst->dl == NULL) {
    nbdkit_error ("rust-filter=PATH is required: the Rust filter (.so) to "
                  "load, one for each --filter=rust (--filter=rust number "
                  "%u, counting from the outermost, got none)", number);
    return -1;
  }
  /* Mirrors nbdkit: without config_complete, on to the next layer. */
  if (inst->filter.config_complete == NULL)
    return next (nxdata);
  return inst->filter.config_complete (&call);
}
