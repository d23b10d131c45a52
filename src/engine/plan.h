/* plan.h: from desired and live objects to an ordered list of actions. Pure: no I/O, so every
 * rule here is unit tested without a host (tests/unit/test_plan_data.c: the cases as data files
 * under tests/data/plan/).
 *
 * Order: creations and changes in kind order (pools, volumes, networks, domains), then
 * deletions in reverse kind order. Each action lists the earlier actions it depends on, so
 * apply can skip the dependents of a failure and carry on with the rest. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "engine/obj.h"
#include "resolve/attach.h"

typedef enum pf_op { PF_OP_CREATE, PF_OP_CHANGE, PF_OP_DELETE } pf_op;

typedef struct pf_change {
        const char *key;
        const char *old_value, *new_value;      /* NULL: absent on that side */
        pf_landing landing;                     /* as it lands on this object in its state */
} pf_change;

typedef struct pf_action {
        pf_op op;
        pf_rkind kind;
        const char *name;
        const pf_obj *want, *have;      /* desired and live object (NULL when absent) */
        PF_LIST(pf_change) changes;
        pf_landing landing;             /* the most disruptive of the changes */
        bool disruptive;                /* '!': a running VM must restart for it to take effect,
                                         * or guests lose their link */
        bool restart;                   /* apply restarts the VM (--allow-restart) */
        bool adopted;                   /* declared, but podform did not create it */
        PF_LIST(size_t) deps;           /* indexes of earlier actions this one needs */
} pf_action;

typedef struct pf_plan_opts {
        bool prune;                     /* delete owned objects no longer declared */
        bool allow_restart;             /* restart running VMs whose changes need it */
} pf_plan_opts;

/* An owned object the configuration no longer declares, kept: without prune, or because a
 * running VM still uses it until it restarts (a disk removed from its definition). */
typedef struct pf_orphan {
        const pf_obj *obj;
        const pf_obj *used_by;          /* NULL: kept because prune is off */
} pf_orphan;

typedef struct pf_plan {
        pf_arena arena;
        PF_LIST(pf_action) actions;
        size_t n_create, n_change, n_delete, n_disruptive;
        PF_LIST(pf_orphan) orphans;             /* owned, undeclared, kept */
        PF_LIST(const pf_obj *) stale;          /* running VMs a restart would update (no --allow-restart) */
} pf_plan;

/* pf_plan_build: errors (a volume that would shrink, a format change) go to d with the
 * declaration's position; the plan is still built from everything else. `want` and `have`
 * must be indexed (pf_objset_index) and outlive the plan. */
void pf_plan_build(pf_plan *p, const pf_objset *want, const pf_objset *have, const pf_plan_opts *o, pf_diags *d);
/* pf_obj_fields_match: whether the plan finds no field of `want` to change on `have` (a field only
 * live and sparse is none). */
bool pf_obj_fields_match(const pf_obj *want, const pf_obj *have);
void pf_plan_free(pf_plan *p);
static inline bool pf_plan_empty(const pf_plan *p) { return p->actions.n == 0; }

/* Output (spec section 5): text with + ~ - !, or JSON per schemas/plan.schema.json. */
void pf_plan_print_text(const pf_plan *p, FILE *f, bool color, bool verbose);
/* `attach` (may be NULL): where the rules put pod-network and constraints interfaces. */
void pf_plan_print_json(const pf_plan *p, FILE *f, const char *host, const char *uri, const pf_attach_result *attach);
/* Where the rules put pod-network and constraints interfaces (podform.yaml(5), RESOLUTION): the
 * plan's Attachments block (only those whose place is new or changes, unless verbose), and its
 * JSON array (schemas/plan.schema.json, all of them). */
void pf_attach_print_text(const pf_attach_result *r, FILE *f, bool verbose);
void pf_attach_print_json(const pf_attach_result *r, FILE *f);
/* One line, e.g. "+ network maas" or "! vm web1 (restart)". */
void pf_action_print_head(const pf_action *a, FILE *f, bool color);
