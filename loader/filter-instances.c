/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the instances of --filter=rust.
 *
 * An instance is made when the first key reaches it (config), keyed
 * by the pointer nbdkit passes for the layer below it (see filter.h).
 * nbdkit hands every key to the outermost filter first, and a filter
 * can only pass keys inward, so an instance is always made after
 * every instance outside it: the list runs from the outermost
 * instance inward, and number 1 is the outermost.
 *
 * The list changes only during configuration and at unload, when
 * nbdkit runs no other thread; connections only read it.  So it needs
 * no lock.
 */

#include <stdlib.h>

#include "filter.h"

static struct rust_filter_instance *instances;
static unsigned nr_instances;

struct rust_filter_instance *
rust_filter_instance_of (nbdkit_backend *backend)
{
  struct rust_filter_instance *inst;

  for (inst = instances; inst; inst = inst->next)
    if (inst->backend == backend)
      return inst;
  return NULL;
}

/* A new instance, innermost so far.  NULL after an error. */
struct rust_filter_instance *
rust_filter_instance_add (nbdkit_backend *backend)
{
  struct rust_filter_instance *inst, **p;

  inst = calloc (1, sizeof *inst);
  if (inst == NULL) {
    nbdkit_error ("calloc: %m");
    return NULL;
  }
  inst->backend = backend;
  inst->number = ++nr_instances;
  inst->thread_model = -2;
  inst->shared.handle = NBDKIT_HANDLE_NOT_NEEDED;
  for (p = &instances; *p; p = &(*p)->next)
    ;
  *p = inst;
  return inst;
}

/* nbdkit's thread_model, asked once per instance: each answer is the
 * strictest model of them all, which is what nbdkit makes of the
 * answers anyway.  An instance without a filter (only with
 * --dump-plugin, which skips config_complete) takes any model.
 */
int
rust_filter_instances_thread_model (void)
{
  struct rust_filter_instance *inst;
  int model = NBDKIT_THREAD_MODEL_PARALLEL;

  for (inst = instances; inst; inst = inst->next) {
    int m;

    if (inst->dl == NULL)
      continue;
    m = rust_filter_instance_thread_model (inst);
    if (m == -1)
      return -1;
    if (m < model)
      model = m;
  }
  return model;
}

/* nbdkit's get_ready, once per instance, innermost first as nbdkit
 * calls them (the layer below is ready before the layer above): each
 * call readies the innermost instance not yet ready.
 */
int
rust_filter_instances_get_ready (int thread_model)
{
  struct rust_filter_instance *inst, *found = NULL;

  for (inst = instances; inst; inst = inst->next)
    if (!inst->ready)
      found = inst;
  if (found == NULL)
    return 0;
  found->ready = true;
  /* Mirrors nbdkit: without get_ready, success. */
  if (found->dl == NULL || found->filter.get_ready == NULL)
    return 0;
  return found->filter.get_ready (thread_model);
}

/* nbdkit's unload, once per instance, innermost first as nbdkit
 * unloads its filters: each call unloads the innermost Rust filter
 * still loaded.
 */
void
rust_filter_instances_unload_one (void)
{
  struct rust_filter_instance *inst, *found = NULL;

  for (inst = instances; inst; inst = inst->next)
    if (inst->dl)
      found = inst;
  if (found)
    rust_filter_instance_unload (found);
}

/* The last unload: whatever is left, innermost first, and the list. */
void
rust_filter_instances_unload_all (void)
{
  struct rust_filter_instance *inst, **p;

  while (instances) {
    for (p = &instances; (*p)->next; p = &(*p)->next)
      ;
    inst = *p;
    *p = NULL;
    rust_filter_instance_unload (inst);
    free (inst);
  }
  nr_instances = 0;
}
