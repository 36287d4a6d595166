/* nbdkit-rust fuzzing: the loader's key handling (loader/config.c).
 *
 * nbdkit hands the loader KEY=VALUE pairs in command line order;
 * rust_config must load the plugin at rust=, give it every other key
 * in order (those before rust= as soon as it is loaded), keep them all
 * for a reload (rust_config_replay), send a second bare parameter to
 * the plugin's magic key or refuse it, and refuse an empty rust= and a
 * bad rust-reload=, whatever the bytes and however long the values.
 * A reference model of those rules runs alongside and must agree.
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

/* The rest of the loader, as config.c sees it. */
bool rust_reload;

int
rust_reload_watch (const char *path)
{
  free (loaded_path);
  loaded_path = strdup (path);
  if (loaded_path == NULL)
    abort ();
  return 0;
}

struct rust_build *
rust_build_load (const char *path, char *copy)
{
  FUZZ_ASSERT (copy == NULL);
  return fake_build (path);
}

struct rust_build *
rust_reload_load_first (const char *path)
{
  return fake_build (path);
}

int
rust_reload_start (void)
{
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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct fields f = { data + 1, data + size };
  struct list model_got = { 0 }, model_recorded = { 0 };
  char **kv = NULL;
  size_t nfields = 0, nkv, i;
  char *magic, *refused;
  bool loaded = false, failed = false, reload = false;
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

    /* The model: the rules rust_config must follow. */
    if (strcmp (key, "rust-reload") == 0) {
      b = nbdkit_parse_bool (value);
      fuzz_errors = errors;
      if (b == -1)
        expect_error = true;
      else
        reload = b;
    }
    else if (strcmp (key, "rust") != 0 || loaded) {
      const char *k = key;

      if (strcmp (key, "rust") == 0) {
        /* A second bare parameter: the plugin's magic key, or refused. */
        if (!(flags & 2) || magic_key[0] == '\0')
          expect_error = true;
        k = magic_key;
      }
      if (!expect_error) {
        push (&model_recorded, k, value);
        if (loaded) {
          if (!(flags & 1) || strcmp (k, refused_key) == 0)
            expect_error = true;
          else
            push (&model_got, k, value);
        }
      }
    }
    else if (value[0] == '\0' || (flags & 4))
      expect_error = true;
    else {
      loaded = true;
      for (size_t j = 0; j < model_recorded.n && !expect_error; j++) {
        if (!(flags & 1) ||
            strcmp (model_recorded.v[j].key, refused_key) == 0)
          expect_error = true;
        else
          push (&model_got, model_recorded.v[j].key,
                model_recorded.v[j].value);
      }
    }

    r = rust_config (key, value);
    FUZZ_ASSERT (r == 0 || r == -1);
    FUZZ_ASSERT ((r == -1) == expect_error);
    FUZZ_ASSERT ((fuzz_errors > errors) == expect_error);
    FUZZ_ASSERT (rust_reload == reload);
    FUZZ_ASSERT ((rust_current != NULL) == loaded);
    failed = r == -1;   /* nbdkit exits 1 at the first error */
  }

  if (!failed) {
    /* The plugin got exactly the keys the rules say. */
    FUZZ_ASSERT (same (&got, &model_got));
    FUZZ_ASSERT ((rust_config_complete () == 0) == loaded);

    if (loaded) {
      /* A reload gives a new build every key, in order. */
      clear (&got);
      replayed = fake_build ("/fuzz/replayed.so");
      FUZZ_ASSERT (rust_config_replay (replayed) == 0);
      FUZZ_ASSERT (same (&got, &model_recorded));
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
  free_build (rust_current);
  rust_current = NULL;
  rust_reload = false;
  clear (&got);
  clear (&model_got);
  clear (&model_recorded);
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
