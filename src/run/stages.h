/* stages.h: one pass of the pipeline over every kind (kinds/kinds.c), and nothing else runs
 * them: observe (each transport once, then each kind) -> the attachment rules -> desired
 * objects -> host checks -> capacity -> plan; then apply, each action through its kind (the
 * libvirt kinds' side by side). reconcile.c strings the passes together (plan, apply, verify). */
#pragma once
#include <stdio.h>

#include "engine/apply.h"
#include "engine/plan.h"
#include "kinds/kind.h"
#include "resolve/masq.h"

typedef struct pf_stage {
        pf_objset want, have;
        pf_attach_result attach;
        pf_masq masq;                   /* the NICs on podform's NAT network (domain desire's) */
        pf_plan plan;
} pf_stage;

/* pf_stages_plan: a plan into s; configuration errors against this host into d. A transport
 * failure returns -1 with *err set. */
int pf_stages_plan(pf_kind_ctx *k, const pf_plan_opts *po, pf_stage *s, pf_diags *d, char **err);
void pf_stage_free(pf_stage *s);

/* pf_stages_show: observes the host and writes each live object (with owned_only, each that
 * podform owns) through its kind's show entry, kind by kind in creation order, by name within a
 * kind. A transport failure returns -1 with *err set. */
int pf_stages_show(pf_kind_ctx *k, bool owned_only, pf_yaml_out *out, char **err);

/* pf_stages_graph: the host's topology into g, each object through its kind's graph entry:
 * plans (pf_stages_plan, errors into d), then draws every action's objects (created, changed
 * from both sides, deleted) and every live object the plan leaves alone, and the model's
 * Subnets. With an empty model and no prune the plan is empty: the live host as it is (a live
 * domain's fields are read at the plan's finish pass). A transport failure returns -1 with *err
 * set. Sort g (pf_graph_sort) afterwards. */
int pf_stages_graph(pf_kind_ctx *k, const pf_plan_opts *po, pf_graph *g, pf_diags *d, char **err);

/* pf_stages_apply: carries out the plan, each action through its kind's apply: the libvirt
 * kinds' on up to n_workers at once (pf_lv_open_workers opened them; 0 or 1: one at a time),
 * after the kinds theirs may need (pf_kind_needs); the host links' one at a time
 * (engine/apply.h). */
pf_apply_result pf_stages_apply(pf_kind_ctx *k, const pf_plan *p, size_t n_workers, FILE *report, bool color);
