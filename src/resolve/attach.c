/* attach.c: the pod network, interface constraints and DHCP boot options (podform.yaml(5)):
 * the context one run of the rules shares, the walk over the configuration that hands each
 * interface to its rule, and the result API. The rules are in pod.c, constraints.c and boot.c
 * (attach_internal.h lists the files). */
#include "config.h"
#include "resolve/attach.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/load.h"
#include "config/values.h"
#include "model/names.h"
#include "resolve/attach_internal.h"
#include "util/xalloc.h"

/* ---- a growable list of strings in the arena ---- */

void *attach_room(pf_arena *a, void *v, size_t n, size_t *cap, size_t size) {
        if (n < *cap)
                return v;
        size_t grown = *cap ? 2 * *cap : 8;
        void *w = pf_arena_array(a, grown, size);
        if (n)
                memcpy(w, v, n * size);
        *cap = grown;
        return w;
}

void strs_add(pf_arena *a, strs *l, const char *fmt, ...) {
        l->v = attach_room(a, l->v, l->n, &l->cap, sizeof(*l->v));
        va_list ap;
        va_start(ap, fmt);
        l->v[l->n++] = pf_arena_vprintf(a, fmt, ap);
        va_end(ap);
}

const char *strs_join(pf_arena *a, const strs *l, const char *sep) {
        size_t len = 1;
        for (size_t i = 0; i < l->n; i++)
                len += strlen(l->v[i]) + strlen(sep);
        char *s = pf_arena_alloc(a, len);
        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strcat(s, sep);
                strcat(s, l->v[i]);
        }
        return s;
}

const char *pf_attach_rule_name(pf_attach_rule r) {
        static const char *const names[] = { "a", "c1", "c2", "legacy", "constraints", "binding" };
        return r < _PF_RULE_MAX ? names[r] : "?";
}

const char *pf_attach_rule_label(pf_attach_rule r) {
        static const char *const labels[] = { "rules a, b", "rule c1", "rule c2", "rule legacy", "constraints",
                                              "by its binding" };
        return r < _PF_RULE_MAX ? labels[r] : "?";
}

const char *pf_attachment_target(pf_arena *a, const pf_attachment *x) {
        switch (x->target) {
        case PF_TARGET_NETWORK: return pf_arena_printf(a, "network %s", x->source);
        case PF_TARGET_BRIDGE: return pf_arena_printf(a, "bridge %s", x->source);
        case PF_TARGET_USER: return pf_arena_printf(a, "user %s", x->source);
        default: return pf_arena_printf(a, "direct %s mode=%s", x->source, pf_enum_name(&pf_macvlan_mode_enum, x->mode));
        }
}

/* ---- the host, as the rules see it ---- */

static int nic_cmp(const void *a, const void *b) {
        const pf_nic_fact *x = *(const pf_nic_fact *const *) a, *y = *(const pf_nic_fact *const *) b;
        int k = strcmp(x->vm ? x->vm : "", y->vm ? y->vm : "");
        return k ? k : strcmp(x->iface ? x->iface : "", y->iface ? y->iface : "");
}

int attach_claim_cmp(const void *a, const void *b) {
        const pf_nic_fact *x = *(const pf_nic_fact *const *) a, *y = *(const pf_nic_fact *const *) b;
        return pf_ip_cmp(&x->ip, &y->ip);
}

static int given_cmp(const void *a, const void *b) {
        const given *x = a, *y = b;
        int k = pf_ip_cmp(&x->ip, &y->ip);
        return k ? k : (x->order > y->order) - (x->order < y->order);
}

const pf_network *attach_declared_network(const pf_model *m, const pf_vm *vm, const char *name) {
        EACH(n, m->networks)
                if (n->meta.name && !strcmp(n->meta.name, name) && (!vm || pf_meta_compatible(&vm->meta, &n->meta)))
                        return n;
        return NULL;
}

net_view attach_view_network(attach_ctx *c, const char *name) {
        net_view v = { .name = name };
        const pf_network *n = attach_declared_network(c->m, NULL, name);
        if (n) {
                v.exists = v.declared = true;
                v.active = n->active;
                EACH(ip, n->ips) v.dhcp |= pf_loc_set(ip->dhcp_loc);
                v.managed = pf_forward_own_bridge(n->forward);
                v.bridge = n->bridge_name;
                const char **devs = pf_arena_array(&c->r->arena, n->interfaces.n + 1, sizeof(*devs));
                for (size_t i = 0; i < n->interfaces.n; i++)
                        devs[i] = n->interfaces.v[i].name;
                v.devs = devs;
                v.n_devs = n->interfaces.n;
                return v;
        }
        for (size_t i = 0; i < c->f->n_networks; i++) {
                const pf_net_fact *x = &c->f->networks[i];
                if (strcmp(x->name, name))
                        continue;
                if (x->owned && c->f->prune) {
                        v.pruned = true;
                        continue;
                }
                v.exists = true;
                v.active = x->active;
                v.dhcp = x->dhcp;
                v.managed = x->managed;
                v.bridge = x->bridge;
                v.devs = x->devs;
                v.n_devs = x->n_devs;
        }
        return v;
}

const char *attach_link_kind(attach_ctx *c, const char *ifname) {
        return c->f->links.kind ? c->f->links.kind(c->f->links.ud, ifname) : NULL;
}

const char *attach_link_port_of(attach_ctx *c, const char *ifname) {
        return c->f->links.port_of ? c->f->links.port_of(c->f->links.ud, ifname) : NULL;
}

const pf_nic_fact *attach_live_nic(attach_ctx *c, const char *vm, const char *iface) {
        pf_nic_fact key = { .vm = vm, .iface = iface };
        const pf_nic_fact *k = &key;
        const pf_nic_fact **x = c->f->n_nics ? bsearch(&k, c->nics, c->f->n_nics, sizeof(*c->nics), nic_cmp) : NULL;
        return x ? *x : NULL;
}

pf_attachment *attach_new(attach_ctx *c) {
        c->att = attach_room(&c->r->arena, c->att, c->n_att, &c->cap_att, sizeof(*c->att));
        pf_attachment *x = &c->att[c->n_att++];
        memset(x, 0, sizeof(*x));
        return x;
}

const char *attach_src_path(pf_loc l) { return l.src && l.src->path ? l.src->path : "?"; }

/* ---- the whole configuration ---- */

/* The indexes of c over its facts and model (attach_ctx says which). */
static void build_indexes(attach_ctx *c) {
        const pf_model *m = c->m;
        c->free_of = pf_xcalloc(m->subnets.n + 1, sizeof(*c->free_of));
        c->free_known = pf_xcalloc(m->subnets.n + 1, sizeof(*c->free_known));
        c->nics = pf_xcalloc(c->f->n_nics + 1, sizeof(*c->nics));
        c->claims = pf_xcalloc(c->f->n_nics + 1, sizeof(*c->claims));
        for (size_t k = 0; k < c->f->n_nics; k++) {
                c->nics[k] = &c->f->nics[k];
                if (c->f->nics[k].has_ip)
                        c->claims[c->n_claims++] = &c->f->nics[k];
        }
        qsort(c->nics, c->f->n_nics, sizeof(*c->nics), nic_cmp);
        qsort(c->claims, c->n_claims, sizeof(*c->claims), attach_claim_cmp);
        size_t n_given = 0;
        EACH(vm, m->vms) EACH(n, vm->networks) n_given += ipam_vm_net_has_ip(n);
        c->given = pf_xcalloc(n_given + 1, sizeof(*c->given));
        EACH(vm, m->vms) EACH(n, vm->networks)
                if (ipam_vm_net_has_ip(n) && !vm->meta.load_failed)
                        c->given[c->n_given] = (given) { n->c_ip, c->n_given, vm, n }, c->n_given++;
        qsort(c->given, c->n_given, sizeof(*c->given), given_cmp);
}

static void free_indexes(attach_ctx *c) {
        free(c->free_of);
        free(c->free_known);
        free(c->nics);
        free(c->claims);
        free(c->given);
        free(c->vm_names);
}

static const pf_vm_net *net_of(const pf_vm *vm, const char *name) {
        EACH(n, vm->networks) if (name && n->name && !strcmp(n->name, name)) return n;
        return NULL;
}

/* Hands interface i of vm to the rule for its network, then checks its boot options. */
static void attach_iface(attach_ctx *c, pod_decision *pod, const pf_vm *vm, const pf_iface *i) {
        const pf_vm_net *n = net_of(vm, i->name);
        if (!n)
                return;
        size_t before = c->n_att;
        if (n->backend == PF_BACKEND_CONSTRAINTS)
                constraints_attach(c, vm, i, n);
        else if (pf_net_is_pod(n) && (i->binding == PF_BINDING_BRIDGE || i->binding == PF_BINDING_NONE))
                pod_attach(c, pod, vm, i, n);
        else if (pf_net_is_pod(n) && (i->binding == PF_BINDING_SLIRP || i->binding == PF_BINDING_MASQUERADE) &&
                 !c->no_host)
                pod_attach_user(c, vm, i, n);
        if (pf_loc_set(i->boot_file_name_loc) || pf_loc_set(i->tftp_server_name_loc))
                boot_options(c, vm, i, n, c->n_att > before ? &c->att[c->n_att - 1] : NULL);
}

/* x is placed when the live domain's interface (its running definition) already has the
 * target, and the address, the rules give it: the plan need not say where it goes. */
static void mark_placed(attach_ctx *c, pf_attachment *x) {
        static const char *const types[] = { "network", "bridge", "direct", "user" };
        const pf_nic_fact *n = x->vm->meta.name && x->iface->name ? attach_live_nic(c, x->vm->meta.name, x->iface->name)
                                                                   : NULL;
        x->placed = n && n->type && !strcmp(n->type, types[x->target]) &&
                    (x->target == PF_TARGET_USER || (n->source && x->source && !strcmp(n->source, x->source))) &&
                    (!x->has_ip || (n->has_ip && !pf_ip_cmp(&n->ip, &x->ip)));
}

static void resolve(const pf_model *m, const pf_host *host, const pf_attach_facts *f, bool no_host,
                    pf_attach_result *r, pf_diags *d) {
        static const pf_attach_facts none = { 0 };
        attach_ctx c = { .m = m, .host = host, .f = f ? f : &none, .r = r, .d = d, .no_host = no_host };
        build_indexes(&c);
        pod_decision pod = { 0 };
        size_t errors_before = d ? d->n_errors : 0;
        EACH(vm, m->vms) {
                if (vm->meta.load_failed)
                        continue;
                EACH(i, vm->interfaces) attach_iface(&c, &pod, vm, i);
        }
        free(pod.ranked.v);
        for (size_t k = 0; k < c.n_att; k++)
                mark_placed(&c, &c.att[k]);
        free_indexes(&c);
        r->n_errors = d ? d->n_errors - errors_before : 0;
        r->v = c.att;
        r->n = c.n_att;
        r->bootps = c.bp;
        r->n_bootps = c.n_bp;
}

void pf_attach_resolve(const pf_model *m, const pf_host *host, const pf_attach_facts *f, pf_attach_result *r,
                       pf_diags *d) {
        resolve(m, host, f, false, r, d);
}

void pf_attach_check(const pf_model *m, pf_diags *d) {
        pf_host defaults = { 0 };
        pf_host_defaults(&defaults);
        pf_attach_result r = { 0 };
        resolve(m, &defaults, NULL, true, &r, d);
        pf_attach_free(&r);
}

void pf_attach_free(pf_attach_result *r) {
        pf_arena_free(&r->arena);
        *r = (pf_attach_result) { 0 };
}

/* Attachments are made in configuration order: by VM, then interface, both array elements. */
static int att_cmp(uintptr_t vm_a, uintptr_t i_a, const pf_attachment *b) {
        uintptr_t vm_b = (uintptr_t) b->vm, i_b = (uintptr_t) b->iface;
        if (vm_a != vm_b)
                return vm_a < vm_b ? -1 : 1;
        return (i_a > i_b) - (i_a < i_b);
}

const pf_attachment *pf_attach_find(const pf_attach_result *r, const pf_vm *vm, const pf_iface *i) {
        size_t lo = 0, hi = r ? r->n : 0;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = att_cmp((uintptr_t) vm, (uintptr_t) i, &r->v[mid]);
                if (!k)
                        return &r->v[mid];
                if (k < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

const pf_bootp *pf_attach_bootp(const pf_attach_result *r, const pf_network *n) {
        for (size_t k = 0; r && k < r->n_bootps; k++)
                if (r->bootps[k].network == n)
                        return &r->bootps[k];
        return NULL;
}
