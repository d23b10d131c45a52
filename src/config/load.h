/* load.h: read configuration files into the typed model.
 *
 *   pf_config c; pf_config_init(&c);
 *   pf_config_load_path(&c, "/etc/podform");     (any number of times)
 *   pf_validate(&c, host);                        (config/validate.h)
 *   if (c.diags.n_errors) ...                     (nothing may be applied)
 *   pf_config_free(&c);
 */
#pragma once
#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"
#include "util/arena.h"
#include "util/diag.h"

/* Largest file podform reads: a configuration is text written by people. */
#define PF_MAX_FILE_SIZE (64u << 20)

typedef struct pf_config {
        pf_arena arena;         /* owns sources and the model */
        pf_diags diags;
        pf_model model;
        size_t n_files;
        size_t n_resources;
        /* the files read, by device and inode: a file named twice (-f cfg -f cfg/vms.yaml, or a
         * symlink to it) is read once instead of declaring everything in it twice */
        struct pf_file_id { dev_t dev; ino_t ino; } *read_files;
        size_t n_read_files;
} pf_config;

void pf_config_init(pf_config *c);
void pf_config_free(pf_config *c);

/* pf_config_load_path: a file, or a directory read recursively (.yaml/.yml, byte-sorted,
 * names starting with '.' skipped). Problems are reported to c->diags. */
void pf_config_load_path(pf_config *c, const char *path);
/* pf_config_load_buffer: text that did not come from a file (tests, fuzzing). `name` is used
 * in messages. The text is copied. */
void pf_config_load_buffer(pf_config *c, const char *name, const char *text, size_t len);

/* pf_host_defaults: a Host with every default of spec section 2 (also used when no Host is
 * declared). */
void pf_host_defaults(pf_host *h);
