/* apply.h: carry out a plan through the drivers. An action whose dependency failed or was
 * skipped is skipped; independent actions still run. Every outcome is reported, in plan order.
 *
 * The plan runs in steps: each run of consecutive actions of one kind and direction (the
 * creations and changes of the volumes, the deletions of the domains). A driver with workers
 * (libvirt: a connection each) carries out its consecutive steps of one direction together:
 * an action starts once the actions it depends on are over and so are the steps before it of
 * the kinds its kind may need (`after`: creating domains waits for every volume and network,
 * creating volumes for the pools; volumes and networks, which need nothing of each other, are
 * created side by side), workers sharing themselves among the steps that may start. Deleting
 * goes the other way round (a kind after the kinds that may need it). Other steps (the host
 * links, one netlink socket) run one action at a time on the calling thread, each step after
 * the one before it. The outcomes, the report and the counts do not depend on how many run at
 * once. */
#pragma once
#include <stdio.h>

#include "engine/plan.h"

typedef struct pf_driver {
        const char *name;
        /* Carry out one action. On failure return -1 and set *err to a malloc'd sentence
         * naming the object and the reason. */
        int (*apply)(void *ctx, const pf_action *a, char **err);
        void *ctx;
        /* n_workers > 1: apply may run at once on as many threads, worker w with
         * worker_ctx[w] (w < n_workers); 0 or 1: on the calling thread, with ctx. */
        void *const *worker_ctx;
        size_t n_workers;
} pf_driver;

typedef enum pf_outcome { PF_OUTCOME_OK, PF_OUTCOME_FAILED, PF_OUTCOME_SKIPPED } pf_outcome;

typedef struct pf_apply_result {
        size_t n_ok, n_failed, n_skipped;
} pf_apply_result;

/* pf_apply_plan: drivers[kind] handles the actions of that kind; after[kind] has bit 1 << k set
 * for each kind k it may need (NULL: each step waits for every step before it). Progress goes
 * to `report` (NULL: silent), each line as soon as it and every action before it are over. */
pf_apply_result pf_apply_plan(const pf_plan *p, const pf_driver *const drivers[_PF_R_MAX],
                              const unsigned after[_PF_R_MAX], FILE *report, bool color);
