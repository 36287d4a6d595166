/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust fuzzing: the loader's key handling (loader/config.c).
 *
 * nbdkit hands the loader KEY=VALUE pairs in command line order;
 * rust_config must record them, refusing only an empty rust=, a
 * rust=NAME that is not installed and a bad rust-reload=; then rust_config_complete must load the plugin at the
 * first rust= once (from a private copy with rust-reload=true), give
 * it every other key in order, send a second bare parameter to the
 * plugin's magic key or refuse it, and keep them all for a reload
 * (rust_config_replay), whatever the bytes and however long the
 * values.  A reference model of those rules runs alongside and must
 * agree.
 *
 * The input (see fuzz/README.md): one byte of flags, then fields that
 * each run up to the next NUL byte: the plugin's magic_config_key, the
 * key its config callback refuses, then KEY, VALUE, KEY, VALUE ...
 *
 *   flags bit 0  the plugin has a config callback
 *         bit 1  it has a magic_config_key (the field above)
 *         bit 2  loading it fails
 *         bits 3-7  R: the last VALUE is repeated 2^R times, up to
 *                   1 MiB, for very long values
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAX_VALUE (1024 * 1024)

/* Keys and values, as a list. */
struct kv {
  char *key, *value;
};
struct list {
  struct kv *v;
  size_t n;
};

static void
push (struct list *l, const char *key, const char *value)
{
  l->v = realloc (l->v, (l->n + 1) * sizeof *l->v);
  if (l->v == NULL)
    abort ();
  l->v[l->n].key = strdup (key);
  l->v[l->n].value = strdup (value);
  if (l->v[l->n].key == NULL || l->v[l->n].value == NULL)
    abort ();
  l->n++;
}

static void
clear (struct list *l)
{
  size_t i;

  for (i = 0; i < l->n; i++) {
    free (l->v[i].key);
    free (l->v[i].value);
  }
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

static bool
same (const struct list *a, const struct list *b)
{
  size_t i;

  if (a->n != b->n)
    return false;
  for (i = 0; i < a->n; i++)
    if (strcmp (a->v[i].key, b->v[i].key) != 0 ||
        strcmp (a->v[i].value, b->v[i].value) != 0)
      return false;
  return true;
}

/* The fake plugin: what its config callback got, and what it refuses. */
static struct list got;
static const char *refused_key;

static int
fake_config (const char *key, const char *value)
{
  if (strcmp (key, refused_key) == 0) {
    nbdkit_error ("fake: %s refused", key);
    return -1;
  }
  push (&got, key, value);
  return 0;
}

static int fake_open_called;

static void *
fake_open (int readonly)
{
  (void) readonly;
  fake_open_called++;
  return NULL;
}

static int64_t
fake_get_size (void *handle)
{
  (void) handle;
  return 0;
}

static int
fake_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
            uint32_t flags)
{
  (void) handle, (void) buf, (void) count, (void) offset, (void) flags;
  return -1;
}

/* How the stand-in loader makes builds. */
static uint8_t flags;
static const char *magic_key;
static char *loaded_path;
static size_t builds;

static struct rust_build *
fake_build (const char *path)
{
  struct rust_build *b;

  if (flags & 4) {
    nbdkit_error ("%s: cannot load the plugin (as the input asked)", path);
    return NULL;
  }
  b = calloc (1, sizeof *b);
  if (b == NULL)
    abort ();
  b->plugin.abi_major = NBDKIT_RUST_ABI_MAJOR;
  b->plugin.struct_size = sizeof b->plugin;
  b->plugin.name = "fake";
  b->plugin.magic_config_key = (flags & 2) ? magic_key : NULL;
  b->plugin.max_thread_model = NBDKIT_THREAD_MODEL_PARALLEL;
  b->plugin.config = (flags & 1) ? fake_config : NULL;
  b->plugin.open = fake_open;
  b->plugin.get_size = fake_get_size;
  b->plugin.pread = fake_pread;
  b->path = strdup (path);
  if (b->path == NULL)
    abort ();
  b->number = ++builds;
  b->refs = 1;
  return b;
}

static void
free_build (struct rust_build *b)
{
  if (b) {
    free (b->path);
    free (b);
  }
}

/* The rest of the loader, as config.c sees it: how it loaded the
 * plugin, and whether it started rust-reload.
 */
static size_t loads, reload_loads, reload_starts;

static struct rust_build *
load (const char *path)
{
  free (loaded_path);
  loaded_path = strdup (path);
  if (loaded_path == NULL)
    abort ();
  return fake_build (path);
}

struct rust_build *
rust_build_load (const char *path, const char *file)
{
  FUZZ_ASSERT (file == NULL);
  loads++;
  return load (path);
}

struct rust_build *
rust_reload_load_first (const char *path)
{
  reload_loads++;
  return load (path);
}

int
rust_builds_start_reload (void)
{
  reload_starts++;
  return 0;
}

/* The input's fields. */
struct fields {
  const uint8_t *p, *end;
};

static char *
next_field (struct fields *f)
{
  const uint8_t *nul;
  size_t len;
  char *s;

  if (f->p >= f->end)
    return NULL;
  nul = memchr (f->p, '\0', f->end - f->p);
  len = nul ? (size_t) (nul - f->p) : (size_t) (f->end - f->p);
  s = malloc (len + 1);
  if (s == NULL)
    abort ();
  memcpy (s, f->p, len);
  s[len] = '\0';
  f->p += len + 1;
  return s;
}

/* The last value, R doublings long (at most MAX_VALUE bytes). */
static char *
lengthen (char *value, unsigned r)
{
  size_t len = strlen (value), total = len;
  char *v;

  if (len == 0 || r == 0)
    return value;
  while (r-- > 0 && total * 2 <= MAX_VALUE)
    total *= 2;
  v = malloc (total + 1);
  if (v == NULL)
    abort ();
  for (size_t i = 0; i < total; i += len)
    memcpy (v + i, value, len);
  v[total] = '\0';
  free (value);
  return v;
}

/* The model's replay of the recorded keys to a build: what the
 * plugin gets (into GOT), and whether every key was taken.  A bare
 * parameter (key NULL in RECORDED, stored as "") goes to the magic key.
 */
static bool
model_replay (const struct list *recorded, const bool *bare,
              struct list *got)
{
  size_t j;

  for (j = 0; j < recorded->n; j++) {
    const char *k = recorded->v[j].key;

    if (bare[j]) {
      if (!(flags & 2) || magic_key[0] == '\0')
        return false;
      k = magic_key;
    }
    if (!(flags & 1) || strcmp (k, refused_key) == 0)
      return false;
    push (got, k, recorded->v[j].value);
  }
  return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct fields f = { data + 1, data + size };
  struct list model_got = { 0 }, model_recorded = { 0 }, model_all = { 0 };
  bool *bare = NULL;
  char **kv = NULL;
  size_t nfields = 0, nkv, i;
  char *magic, *refused;
  bool have_path = false, failed = false, reload = false, loaded;
  struct rust_build *replayed;

  if (size < 1)
    return -1;
  flags = data[0];
  magic = next_field (&f);
  refused = next_field (&f);
  magic_key = magic ? magic : "";
  refused_key = refused ? refused : "";
  for (;;) {
    char *s = next_field (&f);

    if (s == NULL)
      break;
    kv = realloc (kv, (nfields + 1) * sizeof *kv);
    if (kv == NULL)
      abort ();
    kv[nfields++] = s;
  }
  nkv = nfields & ~(size_t) 1;   /* a last KEY without VALUE is left out */
  if (nkv > 0)
    kv[nkv - 1] = lengthen (kv[nkv - 1], flags >> 3);

  fuzz_reset ();
  fuzz_plain_messages = false;
  for (i = 0; i < nkv && !failed; i += 2) {
    const char *key = kv[i], *value = kv[i + 1];
    size_t errors = fuzz_errors;
    bool expect_error = false;
    int r, b;

    /* The model: the rules rust_config must follow.  Nothing is
     * loaded yet; only an empty first rust= and a bad rust-reload= are
     * refused.
     */
    if (strcmp (key, "rust-reload") == 0) {
      b = nbdkit_parse_bool (value);
      fuzz_errors = errors;
      if (b == -1)
        expect_error = true;
      else
        reload = b;
    }
    else if (strcmp (key, "rust") == 0 && !have_path) {
      /* A name (no '/', no '.') is an installed plugin (names.c),
       * looked for where this harness installs none.
       */
      if (value[0] == '\0' ||
          (strchr (value, '/') == NULL && strchr (value, '.') == NULL))
        expect_error = true;
      else
        have_path = true;
    }
    else {
      /* A second rust= is a bare parameter, for the magic key. */
      bare = realloc (bare, (model_recorded.n + 1) * sizeof *bare);
      if (bare == NULL)
        abort ();
      bare[model_recorded.n] = strcmp (key, "rust") == 0;
      push (&model_recorded, key, value);
    }

    r = rust_config (key, value);
    FUZZ_ASSERT (r == 0 || r == -1);
    FUZZ_ASSERT ((r == -1) == expect_error);
    FUZZ_ASSERT ((fuzz_errors > errors) == expect_error);
    FUZZ_ASSERT (builds == 0 && rust_builds_current () == NULL);
    failed = r == -1;   /* nbdkit exits 1 at the first error */
  }

  if (!failed) {
    size_t errors = fuzz_errors;
    bool expect_ok;

    /* Now every key is known: the plugin is loaded once, the way
     * rust-reload= said, and gets them all in order.
     */
    loaded = have_path && !(flags & 4);
    expect_ok = loaded && model_replay (&model_recorded, bare, &model_got);
    FUZZ_ASSERT ((rust_config_complete () == 0) == expect_ok);
    FUZZ_ASSERT ((fuzz_errors > errors) == !expect_ok);
    FUZZ_ASSERT (same (&got, &model_got));
    FUZZ_ASSERT (loads + reload_loads == (have_path ? 1 : 0));
    FUZZ_ASSERT (reload_loads == (have_path && reload ? 1 : 0));
    FUZZ_ASSERT (reload_starts == (expect_ok && reload ? 1 : 0));
    FUZZ_ASSERT ((rust_builds_current () != NULL) == loaded);
    /* Loaded once: asked again (--dump-plugin asks twice), no more.
     * Without rust= there is nothing to load, and that is for
     * config_complete to refuse.
     */
    FUZZ_ASSERT ((rust_config_load () == 0) == (expect_ok || !have_path));
    FUZZ_ASSERT (loads + reload_loads == (have_path ? 1 : 0));

    if (expect_ok) {
      /* A reload gives a new build every key, in order. */
      clear (&got);
      FUZZ_ASSERT (model_replay (&model_recorded, bare, &model_all));
      replayed = fake_build ("/fuzz/replayed.so");
      FUZZ_ASSERT (rust_config_replay (replayed) == 0);
      FUZZ_ASSERT (same (&got, &model_all));
      free_build (replayed);

      /* --dump-plugin shows the magic key so that it reads back. */
      char *dump = fuzz_dump_plugin ();
      char *v = fuzz_dump_value (dump, "rust_plugin_magic_config_key");
      FUZZ_ASSERT ((flags & 2) ? v && strcmp (v, magic_key) == 0 : v == NULL);
      free (v);
      free (dump);
    }
  }

  /* Back to a fresh loader for the next input. */
  FUZZ_ASSERT (fake_open_called == 0);
  rust_config_free ();
  free_build (rust_builds_current ());
  rust_builds_set_first (NULL);
  loads = reload_loads = reload_starts = builds = 0;
  clear (&got);
  clear (&model_got);
  clear (&model_recorded);
  clear (&model_all);
  free (bare);
  for (i = 0; i < nfields; i++)
    free (kv[i]);
  free (kv);
  free (magic);
  free (refused);
  free (loaded_path);
  loaded_path = NULL;
  fuzz_reset ();
  return 0;
}
