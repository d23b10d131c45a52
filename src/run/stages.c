/* stages.c: the pipeline's passes over every kind (stages.h). */
#include "config.h"
#include "run/stages.h"

#include <stdlib.h>
#include <string.h>

#include "engine/capacity.h"
#include "kinds/link.h"
#include "kinds/domain.h"
#include "kinds/network.h"
#include "config/values.h"
#include "libvirt/conn.h"
#include "libvirt/render.h"
#include "model/names.h"
#include "netlink/rtnl.h"
#include "run/reconcile.h"
#include "util/xalloc.h"

void pf_stage_free(pf_stage *s) {
        pf_attach_free(&s->attach);
        pf_masq_free(&s->masq);
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
        unsigned long v = pf_lv_version(k->lv);
        pf_attach_facts facts = { .links = k->links, .prune = k->prune, .masq_nat = v && v < PF_LIBVIRT_PASST };
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
        k->masq = &s->masq;
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

/* Live objects another object owns, shown with that one only: a libvirt network's own bridge
 * (its bridge.name) and a VM's own macvtap (its interface). Applied, a Bridge or Macvtap of
 * theirs would make podform claim, and later delete, the device libvirt manages. */
typedef struct show_owners {
        pf_net_fact *nets;
        size_t n_nets;
        pf_vm_tap *taps;
        size_t n_taps;
} show_owners;

/* The running VM whose own macvtap `o` is, or NULL; one with podform's alias is podform's,
 * whatever uses it. */
static const pf_vm_tap *vm_tap_of(const show_owners *w, const pf_obj *o) {
        pf_vm_tap key = { o->name, NULL };
        return o->kind == PF_R_MACVTAP && !o->owned ? bsearch(&key, w->taps, w->n_taps, sizeof(key), pf_vm_tap_cmp) : NULL;
}

static bool anothers(const show_owners *w, const pf_obj *o) {
        return network_owning(o, w->nets, w->n_nets) || vm_tap_of(w, o);
}

static show_owners owners_of(pf_kind_ctx *k, pf_stage *s) {
        show_owners w = { 0 };
        w.nets = pf_network_facts(&s->have, &w.n_nets);
        w.taps = pf_domain_macvtaps(k, &s->have.arena, &w.n_taps);
        return w;
}

/* Whether `o` is another object's; then it is said in one comment instead. */
static bool shown_by_owner(const show_owners *w, const pf_obj *o, pf_yaml_out *out) {
        const char *net = network_owning(o, w->nets, w->n_nets);
        const pf_vm_tap *tap = vm_tap_of(w, o);
        if (net)
                pf_yaml_aside(out, "bridge %s is libvirt network %s's own: shown as its bridge.name", o->name, net);
        else if (tap)
                pf_yaml_aside(out, "macvtap %s is VM %s's own: libvirt made it for the VM's direct interface", o->name,
                              tap->vm);
        return net || tap;
}

/* One object's show, built apart, and its YAML text, to judge it before it is written. */
static char *show_apart(const pf_kind_ops *ops, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *o,
                        pf_yaml_out *y) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                pf_oom();
        pf_yaml_out_init(y, NULL, PF_YAML_OUT_YAML);
        ops->show(ops, k, have, o, y);
        pf_yaml_out_write(y, f);
        fclose(f);
        return text;
}

/* One document show would write: its object, its text, and why it would not load (or NULL). */
typedef struct shown_doc {
        const pf_kind_ops *ops;
        const pf_obj *o;
        pf_yaml_out tree;
        char *text;
        uint32_t first_line;            /* in the documents loaded together */
        char *why;
} shown_doc;

/* A loader message without the positions in show's own buffer ("at shown:22:23"), which the
 * reader never sees. */
static char *without_positions(const char *msg) {
        char *r = pf_xstrdup(msg), *at;
        while ((at = strstr(r, " at shown:")) != NULL) {
                const char *end = at + strlen(" at shown:");
                end += strspn(end, "0123456789:");
                memmove(at, end, strlen(end) + 1);
        }
        return r;
}

/* Loads the documents not yet refused, together, as the output would be loaded: one that an
 * error points into (a value the format lacks, or a clash with another document, such as two
 * VMs with one MAC) is refused with that error. Returns how many were newly refused. */
static size_t refuse_unloadable(shown_doc *v, size_t n) {
        size_t len = 0, refused = 0;
        for (size_t i = 0; i < n; i++)
                len += v[i].why ? 0 : strlen(v[i].text) + 5;
        char *all = pf_xmalloc(len + 1), *p = all;
        *p = '\0';
        uint32_t line = 1;
        for (size_t i = 0; i < n; i++) {
                if (v[i].why)
                        continue;
                v[i].first_line = line;
                p = stpcpy(stpcpy(p, v[i].text), "---\n");
                for (const char *c = v[i].text; *c; c++)
                        line += *c == '\n';
                line++;
        }
        pf_config c;
        pf_config_init(&c);
        pf_config_load_buffer(&c, "shown", all, (size_t) (p - all));
        pf_run_check(&c);
        for (size_t d = 0; d < c.diags.n; d++) {
                const pf_diag *e = &c.diags.v[d];
                size_t at = n;
                for (size_t i = 0; i < n; i++)
                        if (!v[i].why && v[i].first_line && v[i].first_line <= e->loc.line)
                                at = i;
                if (e->severity == PF_ERROR && at < n && !v[at].why) {
                        v[at].why = without_positions(e->msg);
                        refused++;
                }
        }
        pf_config_free(&c);
        free(all);
        return refused;
}

/* A refused document: wholly as comments, after a line saying why, so that the rest still loads
 * and this object is left as it is. */
static void show_refused(const shown_doc *d, pf_yaml_out *out) {
        size_t len = strlen(d->text);
        if (len && d->text[len - 1] == '\n')
                d->text[len - 1] = '\0';
        pf_yaml_aside(out, "%s %s is shown as comments, as it is on the host: podform's format cannot say it (%s)%s\n%s",
                      pf_kind_title(d->ops), d->o->name, d->why,
                      d->o->owned ? "; it is podform's, so applying this with --prune would delete it" : "", d->text);
}

/* Writes the documents: every one loads, alone and with the others. Refusing one removes a
 * document, so the rounds end. */
static void write_shown(shown_doc *docs, size_t n, pf_yaml_out *out) {
        while (refuse_unloadable(docs, n))
                ;
        for (size_t i = 0; i < n; i++) {
                if (docs[i].why)
                        show_refused(&docs[i], out);
                else
                        pf_yaml_out_append(out, &docs[i].tree);
                pf_yaml_out_free(&docs[i].tree);
                free(docs[i].text);
                free(docs[i].why);
        }
}

int pf_stages_show(pf_kind_ctx *k, bool owned_only, pf_yaml_out *out, char **err) {
        pf_stage s = { 0 };
        pf_objset_init(&s.want);
        pf_objset_init(&s.have);
        /* a VM's document is written from its whole definition */
        pf_lv_keep_docs(k->lv, true);
        int ret = observe(k, &s, err);
        show_owners owners = ret == 0 ? owners_of(k, &s) : (show_owners) { 0 };
        const pf_obj **objs = pf_xcalloc(s.have.objs.n + 1, sizeof(*objs));
        shown_doc *docs = NULL;
        size_t n_docs = 0;
        PF_EACH_KIND(ops) {
                size_t n = 0;
                for (size_t i = 0; ret == 0 && i < s.have.objs.n; i++) {
                        const pf_obj *o = &s.have.objs.v[i];
                        if (o->kind == ops->rkind && (o->owned || !owned_only) && !shown_by_owner(&owners, o, out))
                                objs[n++] = o;
                }
                qsort(objs, n, sizeof(*objs), cmp_obj_name);
                docs = pf_xreallocarray(docs, n_docs + n + 1, sizeof(*docs));
                for (size_t i = 0; i < n; i++, n_docs++) {
                        docs[n_docs] = (shown_doc) { .ops = ops, .o = objs[i] };
                        docs[n_docs].text = show_apart(ops, k, &s.have, objs[i], &docs[n_docs].tree);
                }
        }
        write_shown(docs, n_docs, out);
        free(docs);
        free(objs);
        free(owners.nets);
        free(owners.taps);
        pf_stage_free(&s);
        return ret;
}

/* ---- graph ---- */

static void draw(const pf_kind_ctx *k, const pf_obj *o, unsigned sides, pf_graph_state state, const char *mark,
                 pf_graph *g) {
        const pf_kind_ops *ops = pf_kinds[o->kind];
        if (!ops->graph)
                return;
        pf_graph_begin(g, sides, state, mark);
        ops->graph(ops, k, o, g);
}

static const pf_graph_state state_of_op[] = {
        [PF_OP_CREATE] = PF_GS_CREATE, [PF_OP_CHANGE] = PF_GS_CHANGE, [PF_OP_DELETE] = PF_GS_DELETE,
};

/* What the plan's '!' means for the object, as the plan's text says it (engine/plan_print.c). */
static const char *action_mark(const pf_action *a) {
        if (!a->disruptive)
                return NULL;
        if (a->op == PF_OP_DELETE)
                return "running: stopped first";
        if (a->restart)
                return "restarted now";
        return a->landing == PF_LAND_RESTART ? "restart pending"
               : a->landing == PF_LAND_LIVE  ? "stops it"
                                             : "recreated: guests lose their link";
}

/* Every action's objects from their sides, then the live objects no action concerns. */
static void draw_plan(const pf_kind_ctx *k, const pf_stage *s, const show_owners *w, pf_graph *g) {
        bool *acted = pf_xcalloc(s->have.objs.n + 1, sizeof(*acted));
        for (size_t i = 0; i < s->plan.actions.n; i++) {
                const pf_action *a = &s->plan.actions.v[i];
                pf_graph_state state = state_of_op[a->op];
                if (a->have) {
                        acted[a->have - s->have.objs.v] = true;
                        if (!anothers(w, a->have))
                                draw(k, a->have, PF_GSIDE_HAVE, state, action_mark(a), g);
                }
                if (a->want)
                        draw(k, a->want, PF_GSIDE_WANT, state, action_mark(a), g);
        }
        for (size_t i = 0; i < s->have.objs.n; i++) {
                const pf_obj *o = &s->have.objs.v[i];
                if (!acted[i] && !anothers(w, o))
                        draw(k, o, PF_GSIDE_BOTH, PF_GS_SAME, o->stale ? "restart pending" : NULL, g);
        }
        free(acted);
}

/* The configuration's Subnets, beside the host interfaces they are on. */
static void draw_subnets(const pf_model *m, pf_graph *g) {
        pf_graph_begin(g, PF_GSIDE_BOTH, PF_GS_SAME, NULL);
        for (size_t i = 0; i < m->subnets.n; i++) {
                const pf_subnet *sn = &m->subnets.v[i];
                char cidr[64];
                const char *id = pf_graph_id(g, "subnet", sn->meta.name);
                const char *label = pf_arena_printf(&g->arena, "Subnet %s\n%s", sn->meta.name, pf_cidr_format(&sn->cidr, cidr));
                if (sn->vlan)
                        label = pf_arena_printf(&g->arena, "%s\nVLAN %u", label, sn->vlan);
                if (sn->dhcp != PF_SUBNET_DHCP_NONE)
                        label = pf_arena_printf(&g->arena, "%s\ndhcp %s", label, pf_enum_name(&pf_subnet_dhcp_enum, sn->dhcp));
                pf_graph_node_add(g, PF_GR_SUBNET, id, label);
                for (size_t j = 0; j < sn->interfaces.n; j++) {
                        const char *ifname = sn->interfaces.v[j].name, *link = pf_graph_id(g, "link", ifname);
                        pf_graph_ref_add(g, PF_GR_NIC, link, ifname);
                        pf_graph_edge_add(g, link, id, NULL, NULL);
                }
        }
}

int pf_stages_graph(pf_kind_ctx *k, const pf_plan_opts *po, pf_graph *g, pf_diags *d, char **err) {
        pf_stage s = { 0 };
        int ret = pf_stages_plan(k, po, &s, d, err);
        if (ret == 0) {
                show_owners w = owners_of(k, &s);
                draw_plan(k, &s, &w, g);
                draw_subnets(k->model, g);
                free(w.nets);
                free(w.taps);
        }
        pf_stage_free(&s);
        return ret;
}

static int apply_one(void *ctx, const pf_action *a, char **err) {
        const pf_kind_ops *ops = pf_kinds[a->kind];
        return ops->apply(ops, ctx, a, err);
}

pf_apply_result pf_stages_apply(pf_kind_ctx *k, const pf_plan *p, size_t n_workers, FILE *report, bool color) {
        /* the libvirt kinds' actions run on n_workers, each with a connection of its own (the
         * kinds read nothing else of k that a worker could change); the host links' one at a
         * time, on the one netlink socket */
        pf_lv_forget_pools(k->lv);      /* pools may have been recreated since the last apply */
        pf_kind_ctx *worker_k = pf_xcalloc(n_workers ? n_workers : 1, sizeof(*worker_k));
        void **worker_ctx = pf_xcalloc(n_workers ? n_workers : 1, sizeof(*worker_ctx));
        for (size_t w = 0; w < n_workers; w++) {
                worker_k[w] = *k;
                worker_k[w].lv = pf_lv_worker(k->lv, w);
                worker_ctx[w] = &worker_k[w];
        }
        pf_driver links = { "links", apply_one, k, NULL, 0 };
        pf_driver libvirt = { "libvirt", apply_one, k, worker_ctx, n_workers };
        const pf_driver *drivers[_PF_R_MAX];
        unsigned after[_PF_R_MAX];
        PF_EACH_KIND(ops) {
                drivers[ops->rkind] = ops->flags & PF_KIND_LIBVIRT ? &libvirt : &links;
                after[ops->rkind] = pf_kind_needs(ops);
        }
        pf_apply_result r = pf_apply_plan(p, drivers, after, report, color);
        free(worker_ctx);
        free(worker_k);
        return r;
}
