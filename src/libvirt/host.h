/* host.h: the libvirt driver. The only code, with owner.c, that talks to libvirt.
 *
 *   pf_lv_host *h = pf_lv_open(uri, state_dir, &err);
 *   pf_lv_build(h, &env, want, have, diags)       observe the host, render the configuration
 *   plan (engine/plan.h), then apply with pf_lv_driver(h) for every kind
 *   pf_lv_close(h);
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "engine/apply.h"
#include "engine/obj.h"
#include "model/link_view.h"
#include "model/model.h"
#include "resolve/attach.h"

typedef struct pf_lv_host pf_lv_host;

typedef struct pf_lv_opts {
        unsigned shutdown_timeout;      /* seconds between ACPI shutdown and destroy */
} pf_lv_opts;

/* pf_lv_open: `state_dir` holds the ownership record (NULL: memory only). */
pf_lv_host *pf_lv_open(const char *uri, const char *state_dir, const pf_lv_opts *o, char **err);
void pf_lv_close(pf_lv_host *h);
const char *pf_lv_uri(const pf_lv_host *h);

typedef struct pf_lv_env {
        const pf_model *model;          /* resources for other hosts already filtered out */
        const pf_host *host;            /* effective Host settings */
        const char *host_name;
        pf_link_view links;             /* what rendering asks of host links (see pf_render_env) */
        /* Receives where the rules put pod-network and constraints interfaces (for the plan);
         * NULL: kept inside. Freed and refilled by every build; the caller frees the last. */
        pf_attach_result *attach;
        bool prune;                     /* the plan deletes what podform owns and no longer declares */
} pf_lv_env;

/* pf_lv_build: observe every pool, volume, network and domain into `have`, and render every
 * declared one into `want` (both indexed, with the host links they already hold). Rendering
 * errors go to d; a libvirt failure returns -1 with *err set. Between the two, the rules of spec
 * 3.1, 3.2 and 3.4 (resolve/attach.h) run on what was observed. */
int pf_lv_build(pf_lv_host *h, const pf_lv_env *env, pf_objset *want, pf_objset *have, pf_diags *d, char **err);

/* The host's size, for the capacity check. */
int pf_lv_node(pf_lv_host *h, unsigned *cpus, uint64_t *memory_kib, char **err);

/* The apply side: one driver for all four kinds. */
const pf_driver *pf_lv_driver(pf_lv_host *h);
/* Records ownership changes made by apply. */
int pf_lv_save(pf_lv_host *h, char **err);
/* The connection itself, for tests that check the host through the libvirt API (the test
 * driver's host is private to its connection). */
struct _virConnect *pf_lv_conn(const pf_lv_host *h);
/* Mutating libvirt calls made through this host so far (a second apply must make none). */
unsigned long pf_lv_mutations(const pf_lv_host *h);
