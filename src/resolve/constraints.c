/* constraints.c: interface constraints (podform.yaml(5)): the Subnets the keys keep, the checks
 * of a constraint address, and the host interface of those Subnets that takes the VM's interface. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/values.h"
#include "model/names.h"
#include "resolve/attach_internal.h"
#include "util/xalloc.h"

static bool subnet_usable_for(const pf_vm *vm, const pf_subnet *s) {
        return !s->meta.load_failed && pf_loc_set(s->cidr_loc) && pf_meta_compatible(&vm->meta, &s->meta);
}

/* Whether a key of the constraints keeps subnet s. */
typedef enum ckey { K_SUBNET, K_SPACE, K_FABRIC, K_VLAN, K_IP, _K_MAX } ckey;
static const char *const ckey_names[] = { "subnet", "space", "fabric", "vlan", "ip" };

static bool key_given(const pf_vm_net *n, ckey k) {
        switch (k) {
        case K_SUBNET: return n->c_subnet != NULL;
        case K_SPACE: return n->c_space != NULL;
        case K_FABRIC: return n->c_fabric != NULL;
        case K_VLAN: return pf_loc_set(n->c_vlan_loc);
        default: return pf_loc_set(n->c_ip_loc);
        }
}

static pf_loc key_loc(const pf_vm_net *n, ckey k) {
        switch (k) {
        case K_SUBNET: return n->c_subnet_loc;
        case K_SPACE: return n->c_space_loc;
        case K_FABRIC: return n->c_fabric_loc;
        case K_VLAN: return n->c_vlan_loc;
        default: return n->c_ip_loc;
        }
}

static bool key_keeps(const pf_vm_net *n, ckey k, const pf_subnet *s) {
        switch (k) {
        case K_SUBNET: return s->meta.name && !strcmp(s->meta.name, n->c_subnet);
        case K_SPACE: return s->space && !strcmp(s->space, n->c_space);
        case K_FABRIC: return s->fabric && !strcmp(s->fabric, n->c_fabric);
        case K_VLAN: return s->vlan == n->c_vlan;
        default: return pf_ip_in_cidr(&n->c_ip, &s->cidr);
        }
}

static const char *describe_subnet(pf_arena *a, const pf_subnet *s) {
        char cidr[64];
        return pf_arena_printf(a, "%s (%s, vlan %u%s%s%s%s)", s->meta.name, pf_cidr_format(&s->cidr, cidr), s->vlan,
                               s->space ? ", space " : "", s->space ? s->space : "", s->fabric ? ", fabric " : "",
                               s->fabric ? s->fabric : "");
}

/* An earlier constraints interface of the model with the same address, or false. */
static bool earlier_claim(attach_ctx *c, const pf_vm *vm, const pf_vm_net *n, const pf_vm **ovm, const pf_vm_net **on) {
        size_t lo = 0, hi = c->n_given;
        while (lo < hi) {       /* the first entry with this address */
                size_t mid = lo + (hi - lo) / 2;
                if (pf_ip_cmp(&c->given[mid].ip, &n->c_ip) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t k = lo; k < c->n_given && !pf_ip_cmp(&c->given[k].ip, &n->c_ip); k++) {
                const given *g = &c->given[k];
                if (g->net == n)
                        return false;
                if (pf_meta_compatible(&g->vm->meta, &vm->meta)) {
                        *ovm = g->vm;
                        *on = g->net;
                        return true;
                }
        }
        return false;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(const char *const *) a, *(const char *const *) b); }

static bool declared_vm(attach_ctx *c, const char *name) {
        if (!c->vm_names) {
                c->vm_names = pf_xcalloc(c->m->vms.n + 1, sizeof(*c->vm_names));
                EACH(v, c->m->vms) if (v->meta.name) c->vm_names[c->n_vm_names++] = v->meta.name;
                qsort(c->vm_names, c->n_vm_names, sizeof(*c->vm_names), str_cmp);
        }
        return c->n_vm_names && bsearch(&name, c->vm_names, c->n_vm_names, sizeof(*c->vm_names), str_cmp);
}

/* The address checks: in a matching subnet (done by the caller), not the network or
 * broadcast address, not the gateway, not reserved, not taken. false after an error. */
static bool check_ip_in(attach_ctx *c, const pf_vm_net *n, const pf_subnet *s) {
        char ip[64], w[64];
        pf_ip_format(&n->c_ip, ip);
        /* as ipam.c's usable() counts them: no network address (IPv6: subnet-router anycast) and no IPv4
         * broadcast, except on /31 and /32 (and /127, /128) */
        unsigned host = ipam_addr_bits(&s->cidr.ip) - s->cidr.prefix;
        pf_cidr net = pf_cidr_network(&s->cidr);
        bool v4 = s->cidr.ip.family == AF_INET;
        const char *what = host >= 2 && !pf_ip_cmp(&net.ip, &n->c_ip) ? (v4 ? "network" : "subnet-router anycast") : NULL;
        uint64_t o;
        if (!what && v4 && host >= 2 && ipam_offset_in(s, &n->c_ip, &o) && o == ((uint64_t) 1 << host) - 1)
                what = "broadcast";
        if (what) {
                pf_error(c->d, n->c_ip_loc, "constraint ip: %s is the %s address of Subnet %s (%s); pick a host address", ip,
                         what, s->meta.name, pf_cidr_format(&s->cidr, w));
                return false;
        }
        if (pf_loc_set(s->gateway_loc) && !pf_ip_cmp(&s->gateway, &n->c_ip)) {
                pf_error(c->d, n->c_ip_loc, "constraint ip: %s is the gateway of Subnet %s (%s:%u); pick another address",
                         ip, s->meta.name, attach_src_path(s->gateway_loc), s->gateway_loc.line);
                return false;
        }
        EACH(r, s->reserved)
                if (r->start.family == n->c_ip.family && pf_ip_cmp(&r->start, &n->c_ip) <= 0 &&
                    pf_ip_cmp(&n->c_ip, &r->end) <= 0) {
                        pf_error(c->d, n->c_ip_loc, "constraint ip: %s is reserved in Subnet %s (%s:%u); pick an address "
                                 "outside its reserved ranges", ip, s->meta.name, attach_src_path(r->loc), r->loc.line);
                        return false;
                }
        return true;
}

/* Whether a declared Bridge or Macvlan has the address as its own: the host's, not a VM's
 * (reported). */
static bool host_address(attach_ctx *c, const pf_vm *vm, const pf_vm_net *n, const char *ip) {
        const char *kind = NULL, *link = NULL;
        pf_loc at = { 0 };
        EACH(b, c->m->bridges) EACH(x, b->addresses)
                if (!kind && pf_meta_compatible(&vm->meta, &b->meta) && !pf_ip_cmp(&x->cidr.ip, &n->c_ip))
                        kind = "Bridge", link = b->meta.name, at = x->loc;
        EACH(m, c->m->macvlans) EACH(x, m->addresses)
                if (!kind && pf_meta_compatible(&vm->meta, &m->meta) && !pf_ip_cmp(&x->cidr.ip, &n->c_ip))
                        kind = "Macvlan", link = m->meta.name, at = x->loc;
        if (kind)
                pf_error(c->d, n->c_ip_loc, "constraint ip: %s is the host's own address on %s %s (%s:%u); pick another "
                         "address", ip, kind, link, attach_src_path(at), at.line);
        return kind != NULL;
}

/* ... in every matching Subnet that holds it (Subnets may overlap), and not taken. */
static bool check_ip(attach_ctx *c, const pf_vm *vm, const pf_vm_net *n, const pf_subnet *const *subnets, size_t n_subnets) {
        char ip[64];
        pf_ip_format(&n->c_ip, ip);
        for (size_t j = 0; j < n_subnets; j++)
                if (!check_ip_in(c, n, subnets[j]))
                        return false;
        if (host_address(c, vm, n, ip))
                return false;
        const pf_vm *ovm;
        const pf_vm_net *on;
        if (earlier_claim(c, vm, n, &ovm, &on)) {
                pf_error(c->d, n->c_ip_loc, "constraint ip: %s is already given to VM %s, network %s (%s:%u); an address "
                         "goes to one interface", ip, ovm->meta.name, on->name ? on->name : "?",
                         on->c_ip_loc.src ? on->c_ip_loc.src->path : "?", on->c_ip_loc.line);
                return false;
        }
        pf_nic_fact key = { .ip = n->c_ip };
        const pf_nic_fact *kp = &key;
        const pf_nic_fact **first = c->n_claims ? bsearch(&kp, c->claims, c->n_claims, sizeof(*c->claims),
                                                          attach_claim_cmp) : NULL;
        while (first && first > c->claims && !pf_ip_cmp(&first[-1]->ip, &n->c_ip))
                first--;
        for (const pf_nic_fact **p = first; p && p < c->claims + c->n_claims && !pf_ip_cmp(&(*p)->ip, &n->c_ip); p++) {
                const pf_nic_fact *x = *p;
                /* its own record, or one the configuration now decides: not taken */
                if (x->vm && !c->f->prune && (!vm->meta.name || strcmp(x->vm, vm->meta.name)) && !declared_vm(c, x->vm)) {
                        pf_error(c->d, n->c_ip_loc, "constraint ip: %s is recorded on VM %s (interface %s), which podform "
                                 "created and the configuration no longer declares; delete that VM (apply --prune) or "
                                 "pick another address", ip, x->vm, x->iface ? x->iface : "?");
                        return false;
                }
        }
        return true;
}

/* A key's value as a message quotes it; v (64 bytes) holds a formatted one. */
static const char *key_value(const pf_vm_net *n, ckey k, char *v) {
        switch (k) {
        case K_SUBNET: return n->c_subnet;
        case K_SPACE: return n->c_space;
        case K_FABRIC: return n->c_fabric;
        case K_VLAN: return snprintf(v, 64, "%u", n->c_vlan), v;
        default: return pf_ip_format(&n->c_ip, v);
        }
}

/* One constraints interface on its way through the steps below. */
typedef struct creq {
        const pf_vm *vm;
        const pf_iface *i;
        const pf_vm_net *n;
        const char *name;               /* the interface's, or "?" */
        bool want_bridge, want_macvtap;
        const pf_subnet **keep;         /* the Subnets every key keeps so far */
        size_t nk;
} creq;

/* Keys that cannot hold together: false after an error; every conflict is reported. */
static bool keys_agree(attach_ctx *c, const creq *q) {
        const pf_vm_net *n = q->n;
        const pf_iface *i = q->i;
        bool ok = true;
        if (q->want_bridge && pf_loc_set(n->c_mode_loc)) {
                pf_error(c->d, n->c_mode_loc, "constraints mode and type: bridge conflict: mode is the mode of a macvtap; "
                         "drop mode, or give type: macvlan");
                ok = false;
        }
        if (q->want_bridge && i->binding == PF_BINDING_MACVTAP) {
                pf_error(c->d, n->c_type_loc, "constraint type: bridge conflicts with interface '%s', which uses the macvtap "
                         "binding; give type: macvlan or use the bridge binding", q->name);
                ok = false;
        }
        if (pf_loc_set(n->c_mode_loc) && pf_loc_set(i->macvtap_mode_loc) && n->c_mode != i->macvtap_mode) {
                pf_error(c->d, n->c_mode_loc, "constraint mode: %s conflicts with mode %s of interface '%s' (line %u); give "
                         "the mode once", pf_enum_name(&pf_macvlan_mode_enum, n->c_mode),
                         pf_enum_name(&pf_macvlan_mode_enum, i->macvtap_mode), q->name, i->macvtap_mode_loc.line);
                ok = false;
        }
        return ok;
}

/* A key no Subnet has at all: validation's error (check_constraint_refs), which sees the whole
 * repository; here, scoped to one host, a Subnet of another host does not count. Whether a key
 * is missing (reported when there is a host). */
static bool key_missing(attach_ctx *c, const creq *q) {
        const pf_vm_net *n = q->n;
        for (ckey k = 0; k < K_IP; k++) {
                bool any = false;
                for (size_t j = 0; j < q->nk && !any && key_given(n, k); j++)
                        any = key_keeps(n, k, q->keep[j]);
                if (key_given(n, k) && !any) {
                        if (!c->no_host) {
                                char v[64];
                                pf_error(c->d, key_loc(n, k), "constraint %s: no Subnet for this host matches %s (Subnets "
                                         "scoped to other hosts with metadata.host do not count); declare one for this "
                                         "host, or scope the VM", ckey_names[k], key_value(n, k, v));
                        }
                        return true;
                }
        }
        return false;
}

/* Narrows q->keep key by key: false after an error (a key that keeps none of what the others
 * left). */
static bool narrow_by_keys(attach_ctx *c, creq *q) {
        pf_arena *a = &c->r->arena;
        const pf_vm_net *n = q->n;
        size_t ns = q->nk;
        for (ckey k = 0; k < _K_MAX; k++) {
                if (!key_given(n, k))
                        continue;
                size_t left = 0;
                for (size_t j = 0; j < q->nk; j++)
                        left += key_keeps(n, k, q->keep[j]);
                if (left == 0) {
                        strs before = { 0 };
                        for (size_t j = 0; j < q->nk; j++)
                                strs_add(a, &before, "%s", describe_subnet(a, q->keep[j]));
                        char v[64];
                        const char *val = key_value(n, k, v);
                        if (q->nk == ns && k == K_IP)
                                pf_error(c->d, key_loc(n, k), "constraint ip: %s lies in no Subnet; declare one that "
                                         "contains it, or pick an address in one of: %s", val, strs_join(a, &before, "; "));
                        else
                                pf_error(c->d, key_loc(n, k), "constraint %s: %s matches none of the Subnets the other "
                                         "constraints leave: %s", ckey_names[k], val,
                                         q->nk ? strs_join(a, &before, "; ") : "(none)");
                        return false;
                }
                size_t w = 0;
                for (size_t j = 0; j < q->nk; j++)
                        if (key_keeps(n, k, q->keep[j]))
                                q->keep[w++] = q->keep[j];
                q->nk = w;
        }
        return true;
}

/* Host link ifname of Subnet s for q: false when it cannot take it (passed says why), else *x
 * is its candidate. */
static bool interface_candidate(attach_ctx *c, const creq *q, const pf_subnet *s, const char *ifname, strs *passed,
                                cand *x) {
        pf_arena *a = &c->r->arena;
        const char *kind = attach_link_kind(c, ifname);
        if (!kind) {
                strs_add(a, passed, "%s (Subnet %s): no such link on the host, and none is declared", ifname, s->meta.name);
                return false;
        }
        bool bridge = !strcmp(kind, "bridge");
        /* ranks: a bridge; a macvtap on a NIC; a macvtap on a bridge (MAAS: a macvtap goes on a
         * non-bridge interface; the kernel takes a bridge too) */
        *x = (cand) { ifname, s, ipam_free(c, s), !bridge ? 1 : q->want_macvtap ? 2 : 0 };
        if (q->want_bridge && !bridge) {
                strs_add(a, passed, "%s (Subnet %s): type: bridge, and it is a %s", ifname, s->meta.name, kind);
                return false;
        }
        if (x->rank >= 1) {
                const char *port_of = attach_link_port_of(c, ifname);
                if (!rank_macvtap_parent(ifname, kind)) {
                        strs_add(a, passed, "%s (Subnet %s): it is a %s; a VM's macvtap goes on a NIC or bridge", ifname,
                                 s->meta.name, !strcmp(ifname, "lo") ? "loopback device" : kind);
                        return false;
                }
                if (port_of) {
                        strs_add(a, passed, "%s (Subnet %s): it is a port of bridge %s, and the kernel puts no macvtap "
                                 "on a bridge port", ifname, s->meta.name, port_of);
                        return false;
                }
        }
        return true;
}

/* No host interface of q's Subnets can take it: which Subnets, and why not each interface. */
static void report_no_interface(attach_ctx *c, const creq *q, const strs *passed) {
        pf_arena *a = &c->r->arena;
        const pf_vm_net *n = q->n;
        strs subs = { 0 };
        for (size_t j = 0; j < q->nk; j++)
                strs_add(a, &subs, "%s", q->keep[j]->meta.name);
        const char *key = q->want_bridge ? "type: bridge" : q->want_macvtap ? (pf_loc_set(n->c_mode_loc) ? "mode"
                          : pf_loc_set(n->c_type_loc) ? "type: macvlan" : "the macvtap binding") : NULL;
        pf_error(c->d, n->backend_loc, "constraints of interface '%s' match Subnet%s %s, but %sno host interface "
                 "of %s can take it:\n  - %s", q->name, q->nk == 1 ? "" : "s", strs_join(a, &subs, ", "),
                 key ? pf_arena_printf(a, "with %s ", key) : "", q->nk == 1 ? "it" : "them",
                 passed->n ? strs_join(a, passed, "\n  - ") : "none lists an interface");
}

/* Why the winner w, as the attachment's reason says it. */
static const char *winner_reason(pf_arena *a, const creq *q, const cand *w, pf_macvlan_mode mode) {
        const char *m = pf_enum_name(&pf_macvlan_mode_enum, mode);
        if (w->rank == 0)
                return pf_arena_printf(a, "bridge %s of matching Subnet %s (a bridge before a macvtap)", w->ifname,
                                       w->s->meta.name);
        if (w->rank == 2)
                return pf_arena_printf(a, "a macvtap (mode %s) on bridge %s of matching Subnet %s (no matching NIC)", m,
                                       w->ifname, w->s->meta.name);
        return pf_arena_printf(a, "a macvtap (mode %s) on %s of matching Subnet %s%s", m, w->ifname, w->s->meta.name,
                               q->want_macvtap ? "" : " (no matching bridge)");
}

/* Places q on the first of sorted l, or on the one of its rank the live domain has; passed
 * (the interfaces that could not take it) gets the ranked ones it was not placed on. */
static void place(attach_ctx *c, const creq *q, const cands *l, strs *passed) {
        pf_arena *a = &c->r->arena;
        const pf_vm_net *n = q->n;
        const cand *w = &l->v[0];
        pf_attachment *x = attach_new(c);
        pf_macvlan_mode mode = pf_loc_set(n->c_mode_loc) ? n->c_mode
                             : pf_loc_set(q->i->macvtap_mode_loc) ? q->i->macvtap_mode : c->host->default_macvlan_mode;
        *x = (pf_attachment) { .vm = q->vm, .iface = q->i, .net = n,
                               .target = w->rank == 0 ? PF_TARGET_BRIDGE : PF_TARGET_DIRECT, .source = w->ifname,
                               .mode = mode, .rule = PF_RULE_CONSTRAINTS, .subnet = w->s, .free = w->free };
        size_t same_rank = rank_same(l);
        x->by_d = same_rank > 1;
        if (pf_loc_set(n->c_ip_loc)) {
                x->has_ip = true;
                x->ip = n->c_ip;
        }
        x->reason = winner_reason(a, q, w, mode);
        if (x->by_d)
                x->reason = pf_arena_printf(a, "%s; rule (d): %s (%s) among %zu candidates", x->reason,
                                            rank_d_phrase(w, &l->v[1]), rank_free_text(a, w->free), same_rank);
        const cand *k = x->by_d ? rank_kept(c, l, q->vm, q->i) : NULL;
        if (k) {
                x->source = k->ifname;
                x->subnet = k->s;
                x->free = k->free;
                x->kept = true;
                x->reason = pf_arena_printf(a, "stays on %s (Subnet %s), where it is: it matches the constraints too, and "
                                            "rule (d), which ranks %s first, only places new interfaces", k->ifname,
                                            k->s->meta.name, w->ifname);
        }
        rank_explain(a, passed, l, k ? k : w, "");
        if (x->has_ip) {
                /* the Subnet that holds the address is the one recorded */
                for (size_t j = 0; j < q->nk; j++)
                        if (pf_ip_in_cidr(&x->ip, &q->keep[j]->cidr)) {
                                x->subnet = q->keep[j];
                                x->free = ipam_free(c, q->keep[j]);
                                break;
                        }
        }
        x->passed_over = passed->v;
        x->n_passed_over = passed->n;
}

void constraints_attach(attach_ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        creq q = { .vm = vm, .i = i, .n = n, .name = i->name ? i->name : "?" };
        q.want_bridge = pf_loc_set(n->c_type_loc) && n->c_type == PF_CTYPE_BRIDGE;
        q.want_macvtap = i->binding == PF_BINDING_MACVTAP || pf_loc_set(n->c_mode_loc) ||
                         (pf_loc_set(n->c_type_loc) && n->c_type == PF_CTYPE_MACVLAN);
        bool failed = !keys_agree(c, &q);

        /* the Subnets every key keeps */
        _cleanup_free_ const pf_subnet **keep = pf_xcalloc(c->m->subnets.n + 1, sizeof(*keep));
        q.keep = keep;
        EACH(s, c->m->subnets) if (subnet_usable_for(vm, s)) keep[q.nk++] = s;
        if (!failed && key_missing(c, &q))
                return;
        if (!failed && !narrow_by_keys(c, &q))
                failed = true;
        if (!failed && pf_loc_set(n->c_ip_loc) && !check_ip(c, vm, n, keep, q.nk))
                failed = true;
        if (failed || c->no_host)
                return;

        /* the interfaces of those Subnets, ranked */
        _cleanup_cands_ cands l = { 0 };
        strs passed = { 0 };
        for (size_t j = 0; j < q.nk; j++)
                EACH(it, keep[j]->interfaces) {
                        cand x;
                        if (it->name && interface_candidate(c, &q, keep[j], it->name, &passed, &x))
                                rank_add(&l, x);
                }
        if (!l.n) {
                report_no_interface(c, &q, &passed);
                return;
        }
        qsort(l.v, l.n, sizeof(*l.v), rank_cmp);
        place(c, &q, &l, &passed);
}
