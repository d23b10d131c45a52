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
#include "util/xml.h"

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

/* The rules of podform.yaml(5) (resolve/attach.h), on what was observed: where pod-network
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

/* A macvtap libvirt made for a running domain's <interface type='direct'>, by name. */
typedef struct vm_tap { const char *dev, *vm; } vm_tap;

static int cmp_vm_tap(const void *a, const void *b) {
        return strcmp(((const vm_tap *) a)->dev, ((const vm_tap *) b)->dev);
}

/* Every running domain's direct interfaces, sorted by device: libvirt names each device in the
 * live definition (<target dev='macvtap0'/>), creates it at start and deletes it at stop. */
static vm_tap *vm_taps(pf_kind_ctx *k, pf_arena *a, size_t *n) {
        size_t cap = 16;
        vm_tap *v = pf_xcalloc(cap, sizeof(*v));
        *n = 0;
        for (size_t i = 0; i < pf_lv_n_docs(k->lv); i++) {
                const pf_lv_doc *ld = pf_lv_doc_at(k->lv, i);
                xmlNodePtr devices = ld->kind == PF_R_DOMAIN && ld->running
                                             ? pf_xml_child(xmlDocGetRootElement(ld->running), "devices") : NULL;
                for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                        const char *dev = pf_xml_prop(a, pf_xml_child(c, "target"), "dev");
                        if (!pf_xml_is(c, "interface") || !pf_xml_prop_eq(c, "type", "direct") || !*dev)
                                continue;
                        if (*n == cap)
                                v = pf_xreallocarray(v, cap *= 2, sizeof(*v));
                        v[(*n)++] = (vm_tap) { dev, pf_arena_strdup(a, ld->name) };
                }
        }
        qsort(v, *n, sizeof(*v), cmp_vm_tap);
        return v;
}

/* Live objects another object owns, shown with that one only: a libvirt network's own bridge
 * (its bridge.name) and a VM's own macvtap (its interface). Applied, a Bridge or Macvtap of
 * theirs would make podform claim, and later delete, the device libvirt manages. */
typedef struct show_owners {
        pf_net_fact *nets;
        size_t n_nets;
        vm_tap *taps;
        size_t n_taps;
} show_owners;

/* Whether `o` is another object's; then it is said in one comment instead. */
static bool shown_by_owner(const show_owners *w, const pf_obj *o, pf_yaml_out *out) {
        const char *net = network_owning(o, w->nets, w->n_nets);
        vm_tap key = { o->name, NULL };
        /* one with podform's alias is podform's, whatever uses it */
        const vm_tap *tap = o->kind == PF_R_MACVTAP && !o->owned
                                    ? bsearch(&key, w->taps, w->n_taps, sizeof(key), cmp_vm_tap) : NULL;
        if (!net && !tap)
                return false;
        if (net)
                pf_yaml_aside(out, "bridge %s is libvirt network %s's own: shown as its bridge.name", o->name, net);
        else
                pf_yaml_aside(out, "macvtap %s is VM %s's own: libvirt made it for the VM's direct interface", o->name,
                              tap->vm);
        return true;
}

/* One object's show, in memory, to judge it before it is written. */
static char *show_text(const pf_kind_ops *ops, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *o) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                pf_oom();
        pf_yaml_out y;
        pf_yaml_out_init(&y, f, PF_YAML_OUT_YAML);
        ops->show(ops, k, have, o, &y);
        pf_yaml_out_finish(&y);
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
        pf_yaml_aside(out, "%s %s is shown as comments, as it is on the host: podform's format cannot say it (%s)%s\n%s",
                        pf_kind_title(ops), o->name, why,
                        o->owned ? "; it is podform's, so applying this with --prune would delete it" : "", text);
}

int pf_stages_show(pf_kind_ctx *k, bool owned_only, pf_yaml_out *out, char **err) {
        pf_stage s = { 0 };
        pf_objset_init(&s.want);
        pf_objset_init(&s.have);
        int ret = observe(k, &s, err);
        show_owners owners = { 0 };
        if (ret == 0) {
                owners.nets = pf_network_facts(&s.have, &owners.n_nets);
                owners.taps = vm_taps(k, &s.have.arena, &owners.n_taps);
        }
        const pf_obj **objs = pf_xcalloc(s.have.objs.n + 1, sizeof(*objs));
        PF_EACH_KIND(ops) {
                size_t n = 0;
                for (size_t i = 0; ret == 0 && i < s.have.objs.n; i++) {
                        const pf_obj *o = &s.have.objs.v[i];
                        if (o->kind == ops->rkind && (o->owned || !owned_only) && !shown_by_owner(&owners, o, out))
                                objs[n++] = o;
                }
                qsort(objs, n, sizeof(*objs), cmp_obj_name);
                for (size_t i = 0; i < n; i++)
                        show_one(ops, k, &s.have, objs[i], out);
        }
        free(objs);
        free(owners.nets);
        free(owners.taps);
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
