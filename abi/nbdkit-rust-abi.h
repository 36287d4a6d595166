/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the C ABI between the Rust loader and Rust plugins.
 *
 * This header is the contract between nbdkit-rust-plugin.so (the
 * loader, written in C) and a Rust plugin built as a cdylib with the
 * `nbdkit` crate.  It is the only place the contract is written down.
 *
 * HOW A PLUGIN IS LOADED
 *
 * (Filters, served by nbdkit-rust-filter.so, are loaded the same way
 * through their own entry point and descriptor: see "Filters" at the
 * end of this header.)
 *
 * The loader dlopen()s the plugin and looks up one function per ABI
 * major version it understands, today only:
 *
 *   const struct nbdkit_rust_plugin *
 *   nbdkit_rust_plugin_v1 (const struct nbdkit_rust_host *host);
 *
 * The loader calls it once, right after dlopen(), passing its table of
 * nbdkit services (struct nbdkit_rust_host).  The plugin keeps the
 * pointer and returns a pointer to its descriptor (struct
 * nbdkit_rust_plugin), or NULL if it cannot initialise.  Both tables
 * are owned by the side that made them and stay valid and unchanged
 * until the plugin is dlclose()d.  The plugin must not call into the
 * host table from its library constructors, only once
 * nbdkit_rust_plugin_v1 has been called.
 *
 * The plugin imports no nbdkit_* symbol: it reaches nbdkit only
 * through the host table.
 *
 * VERSIONING
 *
 * Both structs begin with the same prefix, fixed forever:
 *
 *   uint32_t abi_major;   NBDKIT_RUST_ABI_MAJOR of the side that made it
 *   uint32_t abi_minor;   NBDKIT_RUST_ABI_MINOR of the side that made it
 *   uint64_t struct_size; sizeof the struct as that side compiled it
 *
 * Within a major version fields are only ever appended, and the minor
 * version is raised when they are.  Each side reads a field of the
 * other's struct only when the field lies entirely inside the other's
 * struct_size (NBDKIT_RUST_HAS_FIELD below).  So an older plugin works
 * in a newer loader (the newer fields are treated as NULL / absent),
 * and a newer plugin works in an older loader (its newer callbacks are
 * not used; the loader says so in a debug message).
 *
 * A struct_size below NBDKIT_RUST_PLUGIN_V1_MIN_SIZE (or for the host
 * table NBDKIT_RUST_HOST_V1_MIN_SIZE) is refused.  A new major version
 * gets a new entry point (nbdkit_rust_plugin_v2) and new structs; a
 * plugin may export several entry points.
 *
 * CALLBACK CONVENTIONS
 *
 * Every callback has nbdkit's API version 2 signature and meaning, as
 * documented in nbdkit-plugin(3) for nbdkit 1.32.  A NULL pointer means
 * "not implemented": the loader then answers exactly as nbdkit answers
 * for a C plugin that leaves the callback out.  The callbacks are called
 * on nbdkit's threads, in the thread model the plugin chose.
 *
 * On failure a callback returns -1 (NULL for the pointer-returning
 * ones) after calling host->error with a message and host->set_error
 * with the errno the client should receive.  A callback must never let
 * an exception or a Rust panic escape into C.
 *
 * All strings are NUL-terminated.  Strings passed to the plugin are
 * owned by the caller and valid only for the duration of the call
 * unless said otherwise.
 */

#ifndef NBDKIT_RUST_ABI_H
#define NBDKIT_RUST_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NBDKIT_RUST_ABI_MAJOR 1
#define NBDKIT_RUST_ABI_MINOR 1

/* The name of the entry point for ABI major version 1. */
#define NBDKIT_RUST_PLUGIN_V1_SYMBOL "nbdkit_rust_plugin_v1"

/* Opaque nbdkit types, passed through unchanged (nbdkit-common.h). */
struct nbdkit_extents;
struct nbdkit_exports;

/* Opaque types of the filter ABI (1.1), made by the loader and only
 * ever handed back to it: the layer below a filter for one connection
 * (nbdkit's nbdkit_next), a filter's backend and context (nbdkit's
 * nbdkit_backend and nbdkit_context), and one global call down the
 * chain (config, preconnect, open, ...).
 */
struct nbdkit_rust_next;
struct nbdkit_rust_backend;
struct nbdkit_rust_context;
struct nbdkit_rust_next_call;

/* True if FIELD of struct TYPE lies inside the struct_size that the
 * other side declared in *PTR.
 */
#define NBDKIT_RUST_HAS_FIELD(ptr, type, field)                     \
  ((ptr)->struct_size >=                                            \
   offsetof (type, field) + sizeof (((type *) 0)->field))

/* The table of nbdkit services the loader hands the plugin.
 *
 * Every function pointer is non-NULL in a table of ABI 1.0 or later
 * (a service the running nbdkit lacks is still present and fails with
 * ENOTSUP after logging why).  All functions may be called from any
 * nbdkit thread; those that concern "the current connection" have the
 * meaning and restrictions of their nbdkit_* namesake.
 */
struct nbdkit_rust_host {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint64_t struct_size;

  /* Version of nbdkit the host was built for, e.g. "1.32.5".  Static. */
  const char *nbdkit_version;

  /* Log MSG as an error (nbdkit_error) or a debug message
   * (nbdkit_debug).  MSG is plain text, not a format string.
   */
  void (*error) (const char *msg);
  void (*debug) (const char *msg);

  /* Set the errno the client receives when the current callback
   * fails (nbdkit_set_error).
   */
  void (*set_error) (int err);

  /* The current connection (nbdkit_export_name, nbdkit_is_tls,
   * nbdkit_peer_*).  export_name returns a string owned by nbdkit,
   * valid until the connection closes, or NULL on error.  The peer_*
   * functions return -1 on error.
   */
  const char *(*export_name) (void);
  int (*is_tls) (void);
  int (*peer_name) (struct sockaddr *addr, socklen_t *addrlen);
  int64_t (*peer_pid) (void);
  int64_t (*peer_uid) (void);
  int64_t (*peer_gid) (void);

  /* Ask nbdkit to shut down (nbdkit_shutdown).  Asynchronous. */
  void (*shutdown) (void);

  /* Ask nbdkit to disconnect the current client (nbdkit_disconnect).
   * Returns 0, or -1 with an error logged if the running nbdkit has
   * no nbdkit_disconnect (it appeared in nbdkit 1.34).
   */
  int (*disconnect) (int force);

  /* Parsers (nbdkit_parse_*).  They log an error naming WHAT (or the
   * string) and return -1 on failure.  parse_size returns the size or
   * -1; parse_bool returns 0 or 1, or -1.  parse_probability accepts
   * "0.1", "1e-1", "10%", "1:10" and "1/10".
   */
  int64_t (*parse_size) (const char *str);
  int (*parse_bool) (const char *str);
  int (*parse_probability) (const char *what, const char *str, double *r);
  int (*parse_int) (const char *what, const char *str, int *r);
  int (*parse_unsigned) (const char *what, const char *str, unsigned *r);
  int (*parse_int8_t) (const char *what, const char *str, int8_t *r);
  int (*parse_uint8_t) (const char *what, const char *str, uint8_t *r);
  int (*parse_int16_t) (const char *what, const char *str, int16_t *r);
  int (*parse_uint16_t) (const char *what, const char *str, uint16_t *r);
  int (*parse_int32_t) (const char *what, const char *str, int32_t *r);
  int (*parse_uint32_t) (const char *what, const char *str, uint32_t *r);
  int (*parse_int64_t) (const char *what, const char *str, int64_t *r);
  int (*parse_uint64_t) (const char *what, const char *str, uint64_t *r);

  /* nbdkit_read_password: on success *PASSWORD is a malloc'd string
   * the plugin releases with host->free.
   */
  int (*read_password) (const char *value, char **password);

  /* nbdkit_realpath and nbdkit_absolute_path: a malloc'd string the
   * plugin releases with host->free, or NULL with an error logged.
   */
  char *(*realpath) (const char *path);
  char *(*absolute_path) (const char *path);

  /* nbdkit_nanosleep: 0, or -1 when interrupted by shutdown. */
  int (*nanosleep) (unsigned sec, unsigned nsec);

  /* nbdkit_stdio_safe: 1 if the plugin may use stdin/stdout during
   * configuration, else 0.
   */
  int (*stdio_safe) (void);

  /* Only valid inside the extents callback, with the pointer it got. */
  int (*add_extent) (struct nbdkit_extents *extents,
                     uint64_t offset, uint64_t length, uint32_t type);

  /* Only valid inside the list_exports callback, with its pointer.
   * DESCRIPTION may be NULL.
   */
  int (*add_export) (struct nbdkit_exports *exports,
                     const char *name, const char *description);
  int (*use_default_export) (struct nbdkit_exports *exports);

  /* nbdkit_strdup_intern / nbdkit_strndup_intern: a copy owned by
   * nbdkit that lives until the current connection closes (or, outside
   * a connection, until nbdkit exits).  NULL on error.
   */
  const char *(*strdup_intern) (const char *str);
  const char *(*strndup_intern) (const char *str, size_t n);

  /* Release memory the host allocated for the plugin (read_password,
   * realpath, absolute_path).  free(NULL) is allowed.
   */
  void (*free) (void *ptr);

  /* ---- ABI 1.1: what filters need (struct nbdkit_rust_filter). ----
   *
   * A filter reaches the layer below it (the next filter or the
   * plugin) only through these functions, never through nbdkit's own
   * structs, whose layout changes between nbdkit releases: the loader,
   * compiled against the running nbdkit, makes the calls.  Each takes
   * the opaque pointer the loader passed to the filter's callback.
   *
   * Per connection: NEXT is the layer below for this connection
   * (nbdkit's nbdkit_next *), valid for the duration of the filter
   * callback that received it, or, for a NEXT from next_context_open,
   * until next_context_close.  The functions mean what the
   * nbdkit_next_ops functions of the same name mean (nbdkit-filter(3)):
   * the data calls return 0, or -1 and store an errno in *ERR;
   * the others return -1 after nbdkit logged why.
   */
  int (*next_prepare) (struct nbdkit_rust_next *next);
  int (*next_finalize) (struct nbdkit_rust_next *next);
  int64_t (*next_get_size) (struct nbdkit_rust_next *next);
  /* A string owned by nbdkit, valid until the connection closes, or
   * NULL (no description, or an error).
   */
  const char *(*next_export_description) (struct nbdkit_rust_next *next);
  int (*next_block_size) (struct nbdkit_rust_next *next, uint32_t *minimum,
                          uint32_t *preferred, uint32_t *maximum);
  int (*next_can_write) (struct nbdkit_rust_next *next);
  int (*next_can_flush) (struct nbdkit_rust_next *next);
  int (*next_is_rotational) (struct nbdkit_rust_next *next);
  int (*next_can_trim) (struct nbdkit_rust_next *next);
  /* NBDKIT_ZERO_NONE, _EMULATE or _NATIVE (nbdkit-filter.h). */
  int (*next_can_zero) (struct nbdkit_rust_next *next);
  int (*next_can_fast_zero) (struct nbdkit_rust_next *next);
  int (*next_can_extents) (struct nbdkit_rust_next *next);
  /* NBDKIT_FUA_NONE, _EMULATE or _NATIVE. */
  int (*next_can_fua) (struct nbdkit_rust_next *next);
  int (*next_can_multi_conn) (struct nbdkit_rust_next *next);
  /* NBDKIT_CACHE_NONE, _EMULATE or _NATIVE. */
  int (*next_can_cache) (struct nbdkit_rust_next *next);
  int (*next_pread) (struct nbdkit_rust_next *next, void *buf,
                     uint32_t count, uint64_t offset, uint32_t flags,
                     int *err);
  int (*next_pwrite) (struct nbdkit_rust_next *next, const void *buf,
                      uint32_t count, uint64_t offset, uint32_t flags,
                      int *err);
  int (*next_flush) (struct nbdkit_rust_next *next, uint32_t flags, int *err);
  int (*next_trim) (struct nbdkit_rust_next *next, uint32_t count,
                    uint64_t offset, uint32_t flags, int *err);
  int (*next_zero) (struct nbdkit_rust_next *next, uint32_t count,
                    uint64_t offset, uint32_t flags, int *err);
  int (*next_extents) (struct nbdkit_rust_next *next, uint32_t count,
                       uint64_t offset, uint32_t flags,
                       struct nbdkit_extents *extents, int *err);
  int (*next_cache) (struct nbdkit_rust_next *next, uint32_t count,
                     uint64_t offset, uint32_t flags, int *err);

  /* The global calls down the chain: CALL is what the loader passed
   * to the filter's config, config_complete, preconnect, list_exports,
   * default_export or open callback, valid for that call only (nbdkit
   * hands a C filter a function and its nxdata instead).  Each returns
   * what the next layer returned: 0 or -1 (next_default_export: a
   * string owned by nbdkit, or NULL).
   */
  int (*next_config) (struct nbdkit_rust_next_call *call,
                      const char *key, const char *value);
  int (*next_config_complete) (struct nbdkit_rust_next_call *call);
  int (*next_preconnect) (struct nbdkit_rust_next_call *call, int readonly);
  int (*next_list_exports) (struct nbdkit_rust_next_call *call, int readonly,
                            struct nbdkit_exports *exports);
  const char *(*next_default_export) (struct nbdkit_rust_next_call *call,
                                      int readonly);
  int (*next_open) (struct nbdkit_rust_next_call *call,
                    struct nbdkit_rust_context *context, int readonly,
                    const char *exportname);

  /* Extents lists of a filter's own (nbdkit_extents_new, _free,
   * _count, nbdkit_get_extent, nbdkit_extents_full).  get_extent
   * stores the I'th extent (I < count) and returns 0, or -1 if I is out
   * of range.  extents_full returns a new list covering the whole
   * range asked of NEXT, or NULL with *ERR set.
   */
  struct nbdkit_extents *(*extents_new) (uint64_t start, uint64_t end);
  void (*extents_free) (struct nbdkit_extents *extents);
  size_t (*extents_count) (const struct nbdkit_extents *extents);
  int (*get_extent) (const struct nbdkit_extents *extents, size_t i,
                     uint64_t *offset, uint64_t *length, uint32_t *type);
  struct nbdkit_extents *(*extents_full) (struct nbdkit_rust_next *next,
                                          uint32_t count, uint64_t offset,
                                          uint32_t flags, int *err);

  /* Export lists of a filter's own (nbdkit_exports_new, _free, _count,
   * nbdkit_get_export).  get_export stores pointers owned by the list
   * (DESCRIPTION may be NULL) and returns 0, or -1 if I is out of range.
   */
  struct nbdkit_exports *(*exports_new) (void);
  void (*exports_free) (struct nbdkit_exports *exports);
  size_t (*exports_count) (const struct nbdkit_exports *exports);
  int (*get_export) (const struct nbdkit_exports *exports, size_t i,
                     const char **name, const char **description);

  /* A filter that manages its own connection to the layer below
   * (nbdkit_context_get_backend, nbdkit_next_context_open,
   * nbdkit_next_context_close, nbdkit_context_set_next).
   */
  struct nbdkit_rust_backend *(*context_get_backend)
    (struct nbdkit_rust_context *context);
  struct nbdkit_rust_next *(*next_context_open)
    (struct nbdkit_rust_backend *backend, int readonly,
     const char *exportname, int shared);
  void (*next_context_close) (struct nbdkit_rust_next *next);
  struct nbdkit_rust_next *(*context_set_next)
    (struct nbdkit_rust_context *context, struct nbdkit_rust_next *next);
};

/* The smallest host table of ABI 1.0. */
#define NBDKIT_RUST_HOST_V1_MIN_SIZE \
  (offsetof (struct nbdkit_rust_host, free) + sizeof (void (*) (void *)))

/* The smallest host table a filter can use: ABI 1.1, up to and
 * including context_set_next.  nbdkit-rust-filter.so always hands
 * filters one at least this big.
 */
#define NBDKIT_RUST_HOST_V1_1_MIN_SIZE                                  \
  (offsetof (struct nbdkit_rust_host, context_set_next) +               \
   sizeof (void *))

/* The plugin's descriptor: what it is and which callbacks it has.
 *
 * The strings are static, owned by the plugin, valid until dlclose.
 * name, open, get_size and pread are required; every other callback
 * may be NULL.
 */
struct nbdkit_rust_plugin {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint64_t struct_size;

  /* Required: the plugin's name, [A-Za-z0-9][A-Za-z0-9_]*: what
   * nbdkit takes for a plugin name ([A-Za-z0-9][A-Za-z0-9-]*) once each
   * '_' is made a '-', as it is when nbdkit loads the plugin directly.
   */
  const char *name;
  /* Optional (may be NULL): as in struct nbdkit_plugin. */
  const char *longname;
  const char *version;
  const char *description;
  const char *config_help;
  /* The key a bare argument (without '=') is given to, or NULL. */
  const char *magic_config_key;
  /* The version of the Rust SDK that built the plugin, e.g. "0.4.0". */
  const char *sdk_version;

  /* The loosest thread model the plugin can ever support, one of
   * NBDKIT_THREAD_MODEL_* (0 serialize connections .. 3 parallel).
   * The thread_model callback below may choose a stricter one after
   * configuration.
   */
  int32_t max_thread_model;
  /* Zero.  Keeps the callbacks 8-byte aligned. */
  uint32_t reserved0;

  /* Lifecycle, in nbdkit's order (nbdkit-plugin(3)). */
  void (*load) (void);
  void (*unload) (void);
  int (*config) (const char *key, const char *value);
  int (*config_complete) (void);
  void (*dump_plugin) (void);
  int (*thread_model) (void);
  int (*get_ready) (void);
  int (*after_fork) (void);
  void (*cleanup) (void);

  /* Before a connection is opened, and export listing. */
  int (*preconnect) (int readonly);
  int (*list_exports) (int readonly, int is_tls,
                       struct nbdkit_exports *exports);
  /* Returns a string the plugin keeps valid until the next call on
   * this thread, or one made with host->strdup_intern; NULL on error.
   */
  const char *(*default_export) (int readonly, int is_tls);

  /* A connection.  open returns the plugin's per-connection handle
   * (never NULL on success; NULL on error).  close is called exactly
   * once for every handle open returned, and releases it.
   */
  void *(*open) (int readonly);
  void (*close) (void *handle);

  /* Per-connection queries, called after open. */
  int64_t (*get_size) (void *handle);
  /* Same string lifetime rules as default_export. */
  const char *(*export_description) (void *handle);
  int (*block_size) (void *handle, uint32_t *minimum,
                     uint32_t *preferred, uint32_t *maximum);
  int (*can_write) (void *handle);
  int (*can_flush) (void *handle);
  int (*is_rotational) (void *handle);
  int (*can_trim) (void *handle);
  int (*can_zero) (void *handle);
  int (*can_fast_zero) (void *handle);
  int (*can_fua) (void *handle);
  int (*can_multi_conn) (void *handle);
  int (*can_extents) (void *handle);
  int (*can_cache) (void *handle);

  /* Data path.  FLAGS are NBDKIT_FLAG_* (nbdkit-common.h).
   *
   * pread's BUF may hold uninitialised memory: nbdkit zeroes its own
   * request buffers, but a C filter above the plugin may pass memory
   * of its own straight from malloc.  The plugin must write all COUNT
   * bytes before it returns 0, and must not read BUF before writing.
   */
  int (*pread) (void *handle, void *buf, uint32_t count, uint64_t offset,
                uint32_t flags);
  int (*pwrite) (void *handle, const void *buf, uint32_t count,
                 uint64_t offset, uint32_t flags);
  int (*flush) (void *handle, uint32_t flags);
  int (*trim) (void *handle, uint32_t count, uint64_t offset,
               uint32_t flags);
  int (*zero) (void *handle, uint32_t count, uint64_t offset,
               uint32_t flags);
  int (*extents) (void *handle, uint32_t count, uint64_t offset,
                  uint32_t flags, struct nbdkit_extents *extents);
  int (*cache) (void *handle, uint32_t count, uint64_t offset,
                uint32_t flags);

  /* ABI 1.1.  load and dump_plugin that can fail: each returns 0, or
   * -1 after host->error (a Rust panic in the plugin's callback, for
   * one).  When one is set, a loader of ABI 1.1 or later calls it
   * instead of its ABI 1.0 twin and treats -1 as a failed start:
   * nbdkit exits with status 1, and under rust-reload the new build is
   * refused and the running one stays.  A plugin that sets one sets
   * its twin (load, dump_plugin) too, for ABI 1.0 loaders, which call
   * only that.
   */
  int (*load_checked) (void);
  int (*dump_plugin_checked) (void);
};

/* The smallest descriptor of ABI 1.0: up to and including cache. */
#define NBDKIT_RUST_PLUGIN_V1_MIN_SIZE                                  \
  (offsetof (struct nbdkit_rust_plugin, cache) +                        \
   sizeof (int (*) (void *, uint32_t, uint64_t, uint32_t)))

/* The type of the version 1 entry point. */
typedef const struct nbdkit_rust_plugin *
  (*nbdkit_rust_plugin_v1_fn) (const struct nbdkit_rust_host *host);

/* ---- Filters (ABI 1.1) ----
 *
 * A Rust filter is loaded by nbdkit-rust-filter.so (`nbdkit
 * --filter=rust PLUGIN rust-filter=PATH`), which looks up
 *
 *   const struct nbdkit_rust_filter *
 *   nbdkit_rust_filter_v1 (const struct nbdkit_rust_host *host);
 *
 * and calls it once, right after dlopen(), as for a plugin: the same
 * host table (every field, the ABI 1.1 filter services included), the
 * same fixed prefix, the same append-only rule and the same
 * NBDKIT_RUST_HAS_FIELD test.  A library exports either entry point
 * or both (a plugin and a filter in one library are two things the
 * user names separately).
 *
 * Every callback has the meaning of its namesake in nbdkit-filter(3)
 * for nbdkit 1.32 (filter API 6), with nbdkit's own types replaced by
 * the loader's opaque ones and the next layer reached through the
 * host table's next_* functions.  NULL means "not implemented": the
 * loader then passes the call straight through to the next layer, as
 * nbdkit does for a C filter that leaves the callback out.
 *
 * Errors: the global and per-connection callbacks other than the data
 * path return -1 (NULL) after host->error; the data callbacks (pread
 * .. cache) store an errno in *ERR and return -1, as a C filter does.
 *
 * pread's BUF may hold uninitialised memory (a C filter above may
 * pass its own malloc()ed buffer): the filter must write all COUNT
 * bytes before it returns 0, and must not read BUF before writing.
 */

#define NBDKIT_RUST_FILTER_V1_SYMBOL "nbdkit_rust_filter_v1"

struct nbdkit_rust_filter {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint64_t struct_size;

  /* As in struct nbdkit_rust_plugin: name required, the others may
   * be NULL.  A filter has no magic config key.
   */
  const char *name;
  const char *longname;
  const char *version;
  const char *description;
  const char *config_help;
  const char *sdk_version;

  /* The loosest thread model the filter can ever support, as for
   * plugins; the thread_model callback may choose a stricter one.
   */
  int32_t max_thread_model;
  uint32_t reserved0;

  /* Lifecycle.  load returns 0, or -1 after host->error: the loader
   * then refuses the filter and nbdkit exits with status 1.
   */
  int (*load) (void);
  void (*unload) (void);
  int (*config) (struct nbdkit_rust_next_call *next,
                 const char *key, const char *value);
  int (*config_complete) (struct nbdkit_rust_next_call *next);
  int (*thread_model) (void);
  int (*get_ready) (int thread_model);
  int (*after_fork) (struct nbdkit_rust_backend *backend);
  void (*cleanup) (struct nbdkit_rust_backend *backend);

  int (*preconnect) (struct nbdkit_rust_next_call *next, int readonly);
  int (*list_exports) (struct nbdkit_rust_next_call *next,
                       int readonly, int is_tls,
                       struct nbdkit_exports *exports);
  const char *(*default_export) (struct nbdkit_rust_next_call *next,
                                 int readonly, int is_tls);

  /* open calls host->next_open (NEXT, CONTEXT, ...) to open the layer
   * below, and returns its own per-connection handle (never NULL on
   * success), or NULL on error.  close releases it, exactly once.
   */
  void *(*open) (struct nbdkit_rust_next_call *next,
                 struct nbdkit_rust_context *context,
                 int readonly, const char *exportname, int is_tls);
  void (*close) (void *handle);
  int (*prepare) (struct nbdkit_rust_next *next, void *handle,
                  int readonly);
  int (*finalize) (struct nbdkit_rust_next *next, void *handle);

  int64_t (*get_size) (struct nbdkit_rust_next *next, void *handle);
  const char *(*export_description) (struct nbdkit_rust_next *next,
                                     void *handle);
  int (*block_size) (struct nbdkit_rust_next *next, void *handle,
                     uint32_t *minimum, uint32_t *preferred,
                     uint32_t *maximum);
  int (*can_write) (struct nbdkit_rust_next *next, void *handle);
  int (*can_flush) (struct nbdkit_rust_next *next, void *handle);
  int (*is_rotational) (struct nbdkit_rust_next *next, void *handle);
  int (*can_trim) (struct nbdkit_rust_next *next, void *handle);
  int (*can_zero) (struct nbdkit_rust_next *next, void *handle);
  int (*can_fast_zero) (struct nbdkit_rust_next *next, void *handle);
  int (*can_extents) (struct nbdkit_rust_next *next, void *handle);
  int (*can_fua) (struct nbdkit_rust_next *next, void *handle);
  int (*can_multi_conn) (struct nbdkit_rust_next *next, void *handle);
  int (*can_cache) (struct nbdkit_rust_next *next, void *handle);

  int (*pread) (struct nbdkit_rust_next *next, void *handle,
                void *buf, uint32_t count, uint64_t offset,
                uint32_t flags, int *err);
  int (*pwrite) (struct nbdkit_rust_next *next, void *handle,
                 const void *buf, uint32_t count, uint64_t offset,
                 uint32_t flags, int *err);
  int (*flush) (struct nbdkit_rust_next *next, void *handle,
                uint32_t flags, int *err);
  int (*trim) (struct nbdkit_rust_next *next, void *handle,
               uint32_t count, uint64_t offset, uint32_t flags, int *err);
  int (*zero) (struct nbdkit_rust_next *next, void *handle,
               uint32_t count, uint64_t offset, uint32_t flags, int *err);
  int (*extents) (struct nbdkit_rust_next *next, void *handle,
                  uint32_t count, uint64_t offset, uint32_t flags,
                  struct nbdkit_extents *extents, int *err);
  int (*cache) (struct nbdkit_rust_next *next, void *handle,
                uint32_t count, uint64_t offset, uint32_t flags, int *err);
};

/* The smallest filter descriptor of ABI 1.1: up to and including
 * cache.
 */
#define NBDKIT_RUST_FILTER_V1_MIN_SIZE                                  \
  (offsetof (struct nbdkit_rust_filter, cache) +                        \
   sizeof (int (*) (struct nbdkit_rust_next *, void *, uint32_t,       \
                    uint64_t, uint32_t, int *)))

/* The type of the filter entry point. */
typedef const struct nbdkit_rust_filter *
  (*nbdkit_rust_filter_v1_fn) (const struct nbdkit_rust_host *host);

#ifdef __cplusplus
}
#endif

#endif /* NBDKIT_RUST_ABI_H */
