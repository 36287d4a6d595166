/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust fuzzing: the descriptor a plugin hands the loader.
 *
 * Whatever nbdkit_rust_plugin_v1 returns, rust_descriptor_accept
 * (loader/descriptor.c) must accept it only if it is valid, refuse it
 * otherwise with an error naming the file, read no byte past the
 * struct_size the descriptor declares (nor past its own struct), and
 * log nothing that breaks a line of nbdkit's log; --dump-plugin must
 * then print every string of an accepted one so that it reads back.
 *
 * The input (see fuzz/README.md):
 *
 *   u32 abi_major, u32 abi_minor, u64 struct_size, i32 max_thread_model,
 *   u32 reserved0, u64 present (bit i < 7: string i is not NULL; bit
 *   7 + j: callback j is not NULL), then the 7 strings (name, longname,
 *   version, description, config_help, magic_config_key, sdk_version),
 *   each up to the next NUL byte or the end.
 *
 * The descriptor is then built in a buffer of exactly the declared
 * size (at least its 16 bytes of header; at most the loader's struct
 * plus 64 bytes of a newer plugin's fields, filled with 0xa5), so that
 * ASan catches a read past it.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define PATH "/fuzz/libplugin.so"
#define HEADER 32
#define NR_STRINGS 7
#define FIRST_CALLBACK offsetof (struct nbdkit_rust_plugin, load)
#define NR_CALLBACKS                                                    \
  ((offsetof (struct nbdkit_rust_plugin, cache) - FIRST_CALLBACK) /     \
   sizeof (void (*) (void)) + 1)

static const size_t string_offsets[NR_STRINGS] = {
  offsetof (struct nbdkit_rust_plugin, name),
  offsetof (struct nbdkit_rust_plugin, longname),
  offsetof (struct nbdkit_rust_plugin, version),
  offsetof (struct nbdkit_rust_plugin, description),
  offsetof (struct nbdkit_rust_plugin, config_help),
  offsetof (struct nbdkit_rust_plugin, magic_config_key),
  offsetof (struct nbdkit_rust_plugin, sdk_version),
};
static const char *const string_keys[NR_STRINGS] = {
  "rust_plugin_name", "rust_plugin_longname", "rust_plugin_version",
  "rust_plugin_description", "rust_plugin_config_help",
  "rust_plugin_magic_config_key", "rust_sdk_version",
};

/* Stand-ins for the callbacks.  Only dump_plugin is ever called here
 * (by --dump-plugin); the others only have to be there.
 */
static void
not_called (void)
{
  abort ();
}

static void
dump_plugin (void)
{
  printf ("fuzz_dump_plugin=called\n");
}

static const char *
string_at (const struct nbdkit_rust_plugin *p, size_t i)
{
  const char *s;

  memcpy (&s, (const char *) p + string_offsets[i], sizeof s);
  return s;
}

/* What an accepted descriptor must be. */
static void
check_accepted (const struct nbdkit_rust_plugin *copy,
                const unsigned char *mem, size_t declared)
{
  size_t i, kept = declared < sizeof *copy ? declared : sizeof *copy;
  const char *name = copy->name;

  FUZZ_ASSERT (fuzz_errors == 0);
  FUZZ_ASSERT (copy->abi_major == NBDKIT_RUST_ABI_MAJOR);
  FUZZ_ASSERT (copy->struct_size >= NBDKIT_RUST_PLUGIN_V1_MIN_SIZE);
  FUZZ_ASSERT (name != NULL && name[0] != '\0' && name[0] != '_');
  for (i = 0; name[i]; i++)
    FUZZ_ASSERT (strchr ("abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", name[i]));
  FUZZ_ASSERT (copy->open && copy->get_size && copy->pread);
  FUZZ_ASSERT (copy->max_thread_model >= 0 && copy->max_thread_model <= 3);
  /* The plugin's bytes, then zeroes for what its struct lacks. */
  FUZZ_ASSERT (memcmp (copy, mem, kept) == 0);
  for (i = kept; i < sizeof *copy; i++)
    FUZZ_ASSERT (((const unsigned char *) copy)[i] == 0);
}

/* How many of the callbacks up to cache P sets. */
static size_t
callbacks_set (const struct nbdkit_rust_plugin *p)
{
  size_t i, n = 0;

  for (i = 0; i < NR_CALLBACKS; i++) {
    void (*fn) (void);

    memcpy (&fn, (const char *) p + FIRST_CALLBACK + i * sizeof fn,
            sizeof fn);
    n += fn != NULL;
  }
  return n;
}

/* --dump-plugin shows every string of it, and each reads back; and
 * names each callback it sets.
 */
static void
check_dump (struct nbdkit_rust_plugin *copy)
{
  struct rust_build build = { .plugin = *copy, .path = (char *) PATH };
  char *dump, *v;
  size_t i;

  /* config.c loads the plugin at rust= when --dump-plugin asks. */
  fuzz_next_build = &build;
  FUZZ_ASSERT (rust_config ("rust", PATH) == 0);
  dump = fuzz_dump_plugin ();
  rust_config_free ();
  rust_builds_set_first (NULL);
  fuzz_next_build = NULL;
  for (i = 0; i < NR_STRINGS; i++) {
    const char *s = string_at (copy, i);

    v = fuzz_dump_value (dump, string_keys[i]);
    if (s == NULL)
      /* Absent strings are not shown, except the SDK version ("")
       * that every plugin is expected to have.
       */
      FUZZ_ASSERT (v == NULL || (i == 6 && v[0] == '\0'));
    else
      FUZZ_ASSERT (v != NULL && strcmp (v, s) == 0);
    free (v);
  }
  if (copy->dump_plugin)
    FUZZ_ASSERT (strstr (dump, "\nfuzz_dump_plugin=called\n"));
  v = fuzz_dump_value (dump, "rust_plugin_callbacks");
  FUZZ_ASSERT (v != NULL && v[0] != '\0');
  {
    size_t names = 1;
    const char *c;

    for (c = v; *c; c++)
      names += *c == ',';
    FUZZ_ASSERT (names == callbacks_set (copy));
  }
  free (v);
  free (dump);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct nbdkit_rust_plugin full, copy;
  uint64_t declared, present;
  char *strings[NR_STRINGS] = { NULL };
  const uint8_t *p = data + HEADER, *end = data + size;
  unsigned char *mem;
  size_t alloc, i;
  int r;

  if (size < HEADER)
    return -1;

  memset (&full, 0, sizeof full);
  memcpy (&full.abi_major, data, 4);
  memcpy (&full.abi_minor, data + 4, 4);
  memcpy (&declared, data + 8, 8);
  full.struct_size = declared;
  memcpy (&full.max_thread_model, data + 16, 4);
  memcpy (&full.reserved0, data + 20, 4);
  memcpy (&present, data + 24, 8);

  for (i = 0; i < NR_STRINGS; i++) {
    const uint8_t *nul = p < end ? memchr (p, '\0', end - p) : NULL;
    size_t len = nul ? (size_t) (nul - p) : (size_t) (end - p);

    if (p > end)
      len = 0;
    if (present & (UINT64_C (1) << i)) {
      strings[i] = malloc (len + 1);
      if (strings[i] == NULL)
        abort ();
      memcpy (strings[i], p, len);
      strings[i][len] = '\0';
      memcpy ((char *) &full + string_offsets[i], &strings[i],
              sizeof strings[i]);
    }
    p += len + 1;
  }
  for (i = 0; i < NR_CALLBACKS; i++) {
    void (*fn) (void) = not_called;

    if (!(present & (UINT64_C (1) << (NR_STRINGS + i))))
      continue;
    if (FIRST_CALLBACK + i * sizeof fn ==
        offsetof (struct nbdkit_rust_plugin, dump_plugin))
      fn = dump_plugin;
    memcpy ((char *) &full + FIRST_CALLBACK + i * sizeof fn, &fn, sizeof fn);
  }

  /* The plugin's struct: exactly as big as it says. */
  alloc = declared;
  if (alloc < 16)
    alloc = 16;
  if (alloc > sizeof full + 64)
    alloc = sizeof full + 64;
  mem = malloc (alloc);
  if (mem == NULL)
    abort ();
  memset (mem, 0xa5, alloc);
  memcpy (mem, &full, alloc < sizeof full ? alloc : sizeof full);

  fuzz_reset ();
  fuzz_plain_messages = true;
  memset (&copy, 0x5a, sizeof copy);
  r = rust_descriptor_accept (PATH, (const struct nbdkit_rust_plugin *) mem,
                              &copy);
  if (r == 0) {
    check_accepted (&copy, mem, declared);
    check_dump (&copy);
  }
  else {
    FUZZ_ASSERT (r == -1);
    FUZZ_ASSERT (fuzz_errors >= 1);
    FUZZ_ASSERT (strncmp (fuzz_last_error, PATH ": ", strlen (PATH) + 2) == 0);
  }

  free (mem);
  for (i = 0; i < NR_STRINGS; i++)
    free (strings[i]);
  fuzz_reset ();
  return 0;
}
