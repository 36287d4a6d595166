/* nbdkit-rust: the C ABI between the Rust loader and Rust plugins.
 *
 * This header is the contract between nbdkit-rust-plugin.so (the
 * loader, written in C) and a Rust plugin built as a cdylib with the
 * `nbdkit` crate.  It is the only place the contract is written down.
 *
 * HOW A PLUGIN IS LOADED
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
#define NBDKIT_RUST_ABI_MINOR 0

/* The name of the entry point for ABI major version 1. */
#define NBDKIT_RUST_PLUGIN_V1_SYMBOL "nbdkit_rust_plugin_v1"

/* Opaque nbdkit types, passed through unchanged (nbdkit-common.h). */
struct nbdkit_extents;
struct nbdkit_exports;

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
};

/* The smallest host table of ABI 1.0. */
#define NBDKIT_RUST_HOST_V1_MIN_SIZE \
  (offsetof (struct nbdkit_rust_host, free) + sizeof (void (*) (void *)))

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

  /* Required: the plugin's name, [A-Za-z0-9_]+ as for nbdkit. */
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

  /* Data path.  FLAGS are NBDKIT_FLAG_* (nbdkit-common.h). */
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
};

/* The smallest descriptor of ABI 1.0: up to and including cache. */
#define NBDKIT_RUST_PLUGIN_V1_MIN_SIZE                                  \
  (offsetof (struct nbdkit_rust_plugin, cache) +                        \
   sizeof (int (*) (void *, uint32_t, uint64_t, uint32_t)))

/* The type of the version 1 entry point. */
typedef const struct nbdkit_rust_plugin *
  (*nbdkit_rust_plugin_v1_fn) (const struct nbdkit_rust_host *host);

#ifdef __cplusplus
}
#endif

#endif /* NBDKIT_RUST_ABI_H */
