/* stages.c: the pipeline's passes over every kind (stages.h). */
#include "config.h"
#include "run/stages.h"

#include <stdlib.h>
#include <string.h>

#include "engine/capacity.h"
#include "kinds/link.h"
#include "kinds/domain.h"
#include "kinds/network.h"
#include "libvirt/conn.h"
#include "netlink/rtnl.h"
#include "run/reconcile.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

void pf_stage_free(pf_stage *s) {
        pf_attach_free(&s->attach);
        pf_plan_free(&s->plan);
        pf_objset_free(&s->want);
        pf_objset_free(&s->have);
}

/* A recorded port no longer on its bridge was released by someone else: forget it. */
static bool still_enslaved(void *ud, const char *bridge, const char *port) {
        const pf_nl_host *nl = ud;
        const pf_nl_link *br = pf_nl_link_by_name(nl, bridge), *p = pf_nl_link_by_name(nl, port);
        return br && p && p->master == br->ifindex;
}

static int observe(pf_kind_ctx *k, pf_stage *s, char **err) {
        if (pf_nl_observe(k->nl, err) < 0)
                return -1;
        PF_EACH_KIND(ops)
                if (ops->observe && ops->observe(ops, k, &s->have, err) < 0)
                        return -1;
        pf_ports_keep_if(pf_nl_ports(k->nl), still_enslaved, k->nl);
        return 0;
}

/* The rules of spec 3.1, 3.2 and 3.4 (resolve/attach.h), on what was observed: where pod-network
 * and constraints interfaces go, and what the networks serve them. */
static void resolve(pf_kind_ctx *k, pf_stage *s, pf_diags *d) {
        pf_attach_facts facts = { .links = k->links, .prune = k->prune };
        pf_net_fact *nets = pf_network_facts(&s->have, &facts.n_networks);
        pf_nic_fact *nics = pf_domain_nic_facts(k, &s->have, &facts.n_nics);
        facts.networks = nets;
        facts.nics = nics;
        pf_attach_resolve(k->model, k->host, &facts, &s->attach, d);
        free(nets);
        free(nics);
}

int pf_stages_plan(pf_kind_ctx *k, const pf_plan_opts *po, pf_stage *s, pf_diags *d, char **err) {
        pf_objset_init(&s->want);
        pf_objset_init(&s->have);
        k->attach = &s->attach;
        if (observe(k, s, err) < 0)
                return -1;
        pf_objset_index(&s->have);
        resolve(k, s, d);
        PF_EACH_KIND(ops)
                if (ops->desire)
                        ops->desire(ops, k, &s->have, &s->want, d);
        pf_objset_index(&s->want);
        PF_EACH_KIND(ops)
                if (ops->finish)
                        ops->finish(ops, k, &s->have, &s->want);
        PF_EACH_KIND(ops)
                if (ops->check)
                        ops->check(ops, k, &s->have, d);
        pf_objset_mark_used(&s->have);
        pf_capacity cap = { .host = k->host };
        if (pf_lv_node(k->lv, &cap.host_cpus, &cap.host_memory_kib, err) < 0)
                return -1;
        pf_capacity_check(&cap, &s->want, &s->have, d);
        pf_plan_build(&s->plan, &s->want, &s->have, po, d);
        return 0;
}

static int cmp_obj_name(const void *a, const void *b) {
        return strcmp((*(const pf_obj *const *) a)->name, (*(const pf_obj *const *) b)->name);
}

/* The libvirt network whose own bridge (nat, route, open, none) `o` is, or NULL: libvirt makes
 * and deletes that bridge with the network, which shows it as its bridge.name. */
static const char *network_owning(const pf_obj *o, const pf_net_fact *nets, size_t n_nets) {
        for (size_t i = 0; o->kind == PF_R_BRIDGE && i < n_nets; i++)
                if (nets[i].managed && nets[i].bridge && !strcmp(nets[i].bridge, o->name))
                        return nets[i].name;
        return NULL;
}

/* One object's show, in memory, to judge it before it is written. */
static char *show_text(const pf_kind_ops *ops, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *o) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                pf_oom();
        pf_yaml_out y;
        pf_yaml_out_init(&y, f);
        ops->show(ops, k, have, o, &y);
        fclose(f);
        return text;
}

/* The first error loading and validating `text` alone would give (malloc'd), or NULL. */
static char *load_error(const char *text) {
        pf_config c;
        pf_config_init(&c);
        pf_config_load_buffer(&c, "shown", text, strlen(text));
        pf_run_check(&c);
        pf_diag_sort(&c.diags);
        char *why = NULL;
        for (size_t i = 0; i < c.diags.n && !why; i++)
                if (c.diags.v[i].severity == PF_ERROR)
                        why = pf_xstrdup(c.diags.v[i].msg);
        pf_config_free(&c);
        return why;
}

/* Every document show writes loads and validates: one that would not (a value the format
 * lacks, where leaving the key out would change the object when applied) is written wholly as
 * comments, after a line saying why, so that the rest still loads and this object is left as
 * it is. */
static void show_one(const pf_kind_ops *ops, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *o,
                     pf_yaml_out *out) {
        _cleanup_free_ char *text = show_text(ops, k, have, o), *why = load_error(text);
        if (!why) {
                ops->show(ops, k, have, o, out);
                return;
        }
        size_t len = strlen(text);
        if (len && text[len - 1] == '\n')
                text[len - 1] = '\0';
        out->depth = 0;
        pf_yaml_comment(out, "%s %s is shown as comments, as it is on the host: podform's format cannot say it (%s)%s\n%s",
                        pf_kind_title(ops), o->name, why,
                        o->owned ? "; it is podform's, so applying this with --prune would delete it" : "", text);
}

int pf_stages_show(pf_kind_ctx *k, pf_yaml_out *out, size_t *n_unshown, char **err) {
        pf_stage s = { 0 };
        pf_objset_init(&s.want);
        pf_objset_init(&s.have);
        int ret = observe(k, &s, err);
        size_t n_nets = 0;
        pf_net_fact *nets = ret == 0 ? pf_network_facts(&s.have, &n_nets) : NULL;
        const pf_obj **objs = pf_xcalloc(s.have.objs.n + 1, sizeof(*objs));
        *n_unshown = 0;
        PF_EACH_KIND(ops) {
                size_t n = 0;
                for (size_t i = 0; ret == 0 && i < s.have.objs.n; i++) {
                        const pf_obj *o = &s.have.objs.v[i];
                        const char *net = o->kind == ops->rkind ? network_owning(o, nets, n_nets) : NULL;
                        if (net) {
                                out->depth = 0;
                                pf_yaml_comment(out, "bridge %s is libvirt network %s's own: shown as its bridge.name",
                                                o->name, net);
                        } else if (o->kind == ops->rkind) {
                                objs[n++] = o;
                        }
                }
                if (!ops->show) {
                        *n_unshown += n;
                        continue;
                }
                qsort(objs, n, sizeof(*objs), cmp_obj_name);
                for (size_t i = 0; i < n; i++)
                        show_one(ops, k, &s.have, objs[i], out);
        }
        free(objs);
        free(nets);
        pf_stage_free(&s);
        return ret;
}

static int apply_one(void *ctx, const pf_action *a, char **err) {
        const pf_kind_ops *ops = pf_kinds[a->kind];
        return ops->apply(ops, ctx, a, err);
}

pf_apply_result pf_stages_apply(pf_kind_ctx *k, const pf_plan *p, FILE *report, bool color) {
        pf_driver driver = { "kinds", apply_one, k };
        const pf_driver *drivers[_PF_R_MAX];
        for (size_t i = 0; i < _PF_R_MAX; i++)
                drivers[i] = &driver;
        return pf_apply_plan(p, drivers, report, color);
}
