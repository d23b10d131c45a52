/* apply.h: carry out a plan through the drivers, in order. An action whose dependency failed
 * or was skipped is skipped; independent actions still run. Every outcome is reported. */
#pragma once
#include <stdio.h>

#include "engine/plan.h"

typedef struct pf_driver {
        const char *name;
        /* Carry out one action. On failure return -1 and set *err to a malloc'd sentence
         * naming the object and the reason. */
        int (*apply)(void *ctx, const pf_action *a, char **err);
        void *ctx;
} pf_driver;

typedef enum pf_outcome { PF_OUTCOME_OK, PF_OUTCOME_FAILED, PF_OUTCOME_SKIPPED } pf_outcome;

typedef struct pf_apply_result {
        size_t n_ok, n_failed, n_skipped;
} pf_apply_result;

/* pf_apply_plan: drivers[kind] handles the actions of that kind. Progress goes to `report`
 * (NULL: silent). */
pf_apply_result pf_apply_plan(const pf_plan *p, const pf_driver *const drivers[_PF_R_MAX], FILE *report, bool color);
