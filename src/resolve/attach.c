/* attach.c: the pod network, interface constraints and DHCP boot options (spec 3.1, 3.2, 3.4).
 *
 * The pod network is decided once per host: every pod interface with the bridge binding goes
 * where rules (a) to (d) point, except an interface a live domain already has on another
 * candidate of the same rank, which stays there. Rule (d) ranks by free addresses, and those
 * change whenever a VM is given an address: without this, giving one VM an address could move
 * every running VM to another bridge. */
#include "config.h"
#include "resolve/attach.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/load.h"
#include "config/values.h"
#include "model/names.h"
#include "util/xalloc.h"

/* ---- a growable list of strings in the arena ---- */

typedef struct strs {
        const char **v;
        size_t n, cap;
} strs;

/* Array v of n elements (capacity *cap) in the arena, with room for one more. */
static void *arena_room(pf_arena *a, void *v, size_t n, size_t *cap, size_t size) {
        if (n < *cap)
                return v;
        size_t grown = *cap ? 2 * *cap : 8;
        void *w = pf_arena_array(a, grown, size);
        if (n)
                memcpy(w, v, n * size);
        *cap = grown;
        return w;
}

__attribute__((format(printf, 3, 4)))
static void strs_add(pf_arena *a, strs *l, const char *fmt, ...) {
        l->v = arena_room(a, l->v, l->n, &l->cap, sizeof(*l->v));
        va_list ap;
        va_start(ap, fmt);
        l->v[l->n++] = pf_arena_vprintf(a, fmt, ap);
        va_end(ap);
}

static const char *join(pf_arena *a, const strs *l, const char *sep) {
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

const char *pf_attachment_target(pf_arena *a, const pf_attachment *x) {
        switch (x->target) {
        case PF_TARGET_NETWORK: return pf_arena_printf(a, "network %s", x->source);
        case PF_TARGET_BRIDGE: return pf_arena_printf(a, "bridge %s", x->source);
        case PF_TARGET_USER: return pf_arena_printf(a, "user %s", x->source);
        default: return pf_arena_printf(a, "direct %s mode=%s", x->source, pf_enum_name(&pf_macvlan_mode_enum, x->mode));
        }
}

/* ---- addresses ---- */

static bool dhcp_enabled(const pf_subnet *s) {
        return s->dhcp == PF_SUBNET_DHCP_MANAGED || s->dhcp == PF_SUBNET_DHCP_RELAY;
}

static unsigned addr_bits(const pf_ip *ip) { return ip->family == AF_INET6 ? 128 : 32; }

/* The low 64 bits of an address, as a number. */
static uint64_t low64(const pf_ip *ip) {
        uint64_t v = 0;
        if (ip->family == AF_INET6) {
                for (int i = 8; i < 16; i++)
                        v = v << 8 | ip->addr[i];
        } else {
                for (int i = 0; i < 4; i++)
                        v = v << 8 | ip->addr[i];
        }
        return v;
}

typedef struct span { uint64_t lo, hi; } span;

static int span_cmp(const void *a, const void *b) {
        const span *x = a, *y = b;
        return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The offset of ip in s (host bits), false when outside it. Only for host parts under 64 bits. */
static bool offset_in(const pf_subnet *s, const pf_ip *ip, uint64_t *ret) {
        if (!pf_ip_in_cidr(ip, &s->cidr))
                return false;
        unsigned host = addr_bits(ip) - s->cidr.prefix;
        uint64_t mask = host >= 64 ? UINT64_MAX : ((uint64_t) 1 << host) - 1;
        *ret = low64(ip) & mask;
        return true;
}

/* The usable offsets of s: IPv4 drops the network and broadcast addresses except on /31 and
 * /32 (RFC 3021). */
static void usable(const pf_subnet *s, uint64_t *lo, uint64_t *hi) {
        unsigned host = addr_bits(&s->cidr.ip) - s->cidr.prefix;
        uint64_t last = ((uint64_t) 1 << host) - 1;
        *lo = 0;
        *hi = last;
        if (s->cidr.ip.family == AF_INET && host >= 2) {
                *lo = 1;
                *hi = last - 1;
        } else if (host >= 2) {
                *lo = 1;        /* IPv6: the subnet-router anycast address (RFC 4291) */
        }
}

static bool vm_net_has_ip(const pf_vm_net *n) {
        return n->backend == PF_BACKEND_CONSTRAINTS && pf_loc_set(n->c_ip_loc);
}

uint64_t pf_subnet_free(const pf_model *m, const pf_subnet *s) {
        unsigned host = addr_bits(&s->cidr.ip) - s->cidr.prefix;
        if (host >= 64)
                return UINT64_MAX;
        uint64_t lo, hi;
        usable(s, &lo, &hi);
        size_t cap = 1 + s->reserved.n, n = 0;
        EACH(vm, m->vms) EACH(net, vm->networks) cap += vm_net_has_ip(net);
        span *v = pf_xcalloc(cap, sizeof(*v));
        uint64_t o, e;
        if (pf_loc_set(s->gateway_loc) && offset_in(s, &s->gateway, &o))
                v[n++] = (span) { o, o };
        EACH(r, s->reserved)
                if (offset_in(s, &r->start, &o)) {
                        if (!offset_in(s, &r->end, &e))
                                e = ((uint64_t) 1 << host) - 1;
                        v[n++] = (span) { o, e };
                }
        EACH(vm, m->vms) EACH(net, vm->networks)
                if (vm_net_has_ip(net) && pf_meta_compatible(&vm->meta, &s->meta) && offset_in(s, &net->c_ip, &o))
                        v[n++] = (span) { o, o };
        qsort(v, n, sizeof(*v), span_cmp);
        uint64_t total = hi - lo + 1, taken = 0, next = lo;     /* next: first offset not yet counted */
        for (size_t i = 0; i < n; i++) {
                uint64_t a = v[i].lo < next ? next : v[i].lo, b = v[i].hi > hi ? hi : v[i].hi;
                if (a > b || a > hi)
                        continue;
                taken += b - a + 1;
                if (b == UINT64_MAX)
                        break;
                next = b + 1;
        }
        free(v);
        return total - taken;
}

/* ---- the host, as the rules see it ---- */

typedef struct net_view {
        const char *name;
        bool exists, declared, active, dhcp, managed;
        bool pruned;            /* podform's, no longer declared: this run deletes it */
        const char *bridge;
        const char *const *devs;
        size_t n_devs;
} net_view;

typedef struct ctx {
        const pf_model *m;
        const pf_host *host;
        const pf_attach_facts *f;
        pf_attach_result *r;
        pf_diags *d;
        pf_attachment *att;
        size_t n_att, cap_att;
        pf_bootp *bp;
        size_t n_bp, cap_bp;
        /* indexes, so that thousands of VMs resolve in linear-logarithmic time */
        uint64_t *free_of;              /* by Subnet index, once computed */
        bool *free_known;
        const pf_nic_fact **nics;       /* f->nics by VM and interface name */
        const pf_nic_fact **claims;     /* f->nics with an address, by address */
        size_t n_claims;
        struct given *given;            /* constraint addresses of the model, by address, then order */
        size_t n_given;
        const char **vm_names;          /* declared VMs, sorted; built when first needed */
        size_t n_vm_names;
        bool no_host;           /* pf_attach_check: no host facts, place nothing */
} ctx;

/* A constraint address of the model, with its place in configuration order. */
typedef struct given {
        pf_ip ip;
        size_t order;
        const pf_vm *vm;
        const pf_vm_net *net;
} given;

static uint64_t subnet_free(ctx *c, const pf_subnet *s) {
        size_t i = (size_t) (s - c->m->subnets.v);
        if (!c->free_known[i]) {
                c->free_of[i] = pf_subnet_free(c->m, s);
                c->free_known[i] = true;
        }
        return c->free_of[i];
}

static int nic_cmp(const void *a, const void *b) {
        const pf_nic_fact *x = *(const pf_nic_fact *const *) a, *y = *(const pf_nic_fact *const *) b;
        int k = strcmp(x->vm ? x->vm : "", y->vm ? y->vm : "");
        return k ? k : strcmp(x->iface ? x->iface : "", y->iface ? y->iface : "");
}

static int claim_cmp(const void *a, const void *b) {
        const pf_nic_fact *x = *(const pf_nic_fact *const *) a, *y = *(const pf_nic_fact *const *) b;
        return pf_ip_cmp(&x->ip, &y->ip);
}

static int given_cmp(const void *a, const void *b) {
        const given *x = a, *y = b;
        int k = pf_ip_cmp(&x->ip, &y->ip);
        return k ? k : (x->order > y->order) - (x->order < y->order);
}

/* vm NULL: any (the model is scoped to one host); else one that can meet vm on a host (podform
 * validate sees a whole fleet). */
static const pf_network *declared_network_for(const pf_model *m, const pf_vm *vm, const char *name) {
        EACH(n, m->networks)
                if (n->meta.name && !strcmp(n->meta.name, name) && (!vm || pf_meta_compatible(&vm->meta, &n->meta)))
                        return n;
        return NULL;
}

static const pf_network *declared_network(const pf_model *m, const char *name) {
        return declared_network_for(m, NULL, name);
}

/* A network as it will be: declared (podform makes it so), else as libvirt has it. */
static net_view view_network(ctx *c, const char *name) {
        net_view v = { .name = name };
        const pf_network *n = declared_network(c->m, name);
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

static const char *link_kind(ctx *c, const char *ifname) {
        return c->f->links.kind ? c->f->links.kind(c->f->links.ud, ifname) : NULL;
}

static const char *link_port_of(ctx *c, const char *ifname) {
        return c->f->links.port_of ? c->f->links.port_of(c->f->links.ud, ifname) : NULL;
}

/* The first DHCP-enabled Subnet listing ifname, or NULL. */
static const pf_subnet *dhcp_subnet_of(ctx *c, const char *ifname) {
        const pf_subnet *best = NULL;
        EACH(s, c->m->subnets) {
                if (!dhcp_enabled(s))
                        continue;
                EACH(i, s->interfaces) if (i->name && !strcmp(i->name, ifname) && !best) best = s;
        }
        return best;
}

/* ---- candidates of rules (c) and (d), and of constraints ---- */

typedef struct cand {
        const char *ifname;
        const pf_subnet *s;
        uint64_t free;
        int rank;               /* 0: a bridge (type='bridge'), 1: a macvtap (type='direct') */
} cand;

/* Rule (d) as MAAS states it: IPv4 subnets by free addresses, most first (IPv6 ones after
 * them: any IPv6 subnet would otherwise win), then by Subnet name, then by interface name. */
static int cand_cmp(const void *a, const void *b) {
        const cand *x = a, *y = b;
        if (x->rank != y->rank)
                return x->rank - y->rank;
        bool x6 = x->s->cidr.ip.family == AF_INET6, y6 = y->s->cidr.ip.family == AF_INET6;
        if (x6 != y6)
                return x6 - y6;
        if (x->free != y->free)
                return x->free > y->free ? -1 : 1;
        int k = strcmp(x->s->meta.name, y->s->meta.name);
        return k ? k : strcmp(x->ifname, y->ifname);
}

typedef struct cands {
        cand *v;
        size_t n, cap;
} cands;

static void cands_add(cands *l, cand x) {
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->v[i].ifname, x.ifname) && l->v[i].rank == x.rank) {
                        /* one interface on several Subnets: its best one speaks for it */
                        if (cand_cmp(&x, &l->v[i]) < 0)
                                l->v[i] = x;
                        return;
                }
        if (l->n == l->cap)
                l->v = pf_xreallocarray(l->v, l->cap = l->cap ? 2 * l->cap : 8, sizeof(*l->v));
        l->v[l->n++] = x;
}

/* Whether the kernel can put a VM's macvtap on this link: not on another macvtap or macvlan
 * (one per VM interface), a tun/tap or the loopback device (no Ethernet). */
static bool macvtap_parent(const char *ifname, const char *kind) {
        return strcmp(kind, "macvtap") && strcmp(kind, "macvlan") && strcmp(kind, "tun") && strcmp(ifname, "lo");
}

/* Why rule (d) put w before n2 (the next of its rank). */
static const char *d_phrase(const cand *w, const cand *n2) {
        bool w6 = w->s->cidr.ip.family == AF_INET6, n6 = n2->s->cidr.ip.family == AF_INET6;
        if (w6 != n6)
                return "an IPv4 Subnet before IPv6 ones";
        return n2->free == w->free ? "as many free addresses as the next, and first by name" : "the most free addresses";
}

/* A free-address count as a message says it (pf_subnet_free saturates). */
static const char *free_text(pf_arena *a, uint64_t n) {
        return n == UINT64_MAX ? "2^64 or more" : pf_arena_printf(a, "%llu", (unsigned long long) n);
}

static const char *dhcp_name(const pf_subnet *s) { return pf_enum_name(&pf_subnet_dhcp_enum, s->dhcp); }

/* Where the live domain has interface `iface` of `vm` now, if podform created it. */
static const pf_nic_fact *live_nic(ctx *c, const char *vm, const char *iface) {
        pf_nic_fact key = { .vm = vm, .iface = iface };
        const pf_nic_fact *k = &key;
        const pf_nic_fact **x = c->f->n_nics ? bsearch(&k, c->nics, c->f->n_nics, sizeof(*c->nics), nic_cmp) : NULL;
        return x ? *x : NULL;
}

/* The candidate of the winning rank the live domain already uses, or NULL. */
static const cand *kept_candidate(ctx *c, const cands *l, const pf_vm *vm, const pf_iface *i) {
        const pf_nic_fact *x = vm->meta.name && i->name ? live_nic(c, vm->meta.name, i->name) : NULL;
        if (!x || !x->type || !x->source)
                return NULL;
        for (size_t k = 1; k < l->n && l->v[k].rank == l->v[0].rank; k++) {
                const char *type = l->v[k].rank == 0 ? "bridge" : "direct";     /* 1, 2: a macvtap */
                if (!strcmp(x->type, type) && !strcmp(x->source, l->v[k].ifname))
                        return &l->v[k];
        }
        return NULL;
}

/* Why each ranked candidate but `placed` was not taken; rule (d)'s first, when the interface
 * stays elsewhere (kept), last. `c` prefixes rule (c)'s reason on the pod network. */
static void explain_ranks(pf_arena *a, strs *out, const cands *l, const cand *placed, const char *c) {
        const cand *w = &l->v[0];
        for (size_t j = 1; j < l->n; j++) {
                const cand *o = &l->v[j];
                if (o == placed)
                        continue;
                if (o->rank != w->rank)
                        strs_add(a, out, "%s (Subnet %s): %s%s", o->ifname, o->s->meta.name, c,
                                 o->rank == 2 ? "a macvtap on a bridge comes after one on a NIC" : "a macvtap comes after a bridge");
                else
                        strs_add(a, out, "%s (Subnet %s): (d) ranks after %s: %s free addresses%s", o->ifname,
                                 o->s->meta.name, w->ifname, free_text(a, o->free),
                                 o->free == w->free ? ", as many; then by name" : "");
        }
        if (placed != w)
                strs_add(a, out, "%s (Subnet %s): (d) ranks first, but the interface stays where it is", w->ifname,
                         w->s->meta.name);
}

/* ---- the pod network (3.1) ---- */

typedef struct pod_decision {
        bool done, ok;
        pf_attach_rule rule;
        pf_target_kind target;
        const char *source;
        const pf_subnet *subnet;
        uint64_t free;
        bool by_d;
        const char *reason;
        strs passed_over;       /* shared by every interface it places */
        cands ranked;           /* rule (c) candidates, best first */
        const char *error;      /* why nothing qualifies */
        pf_loc first_error;
        bool reported;          /* the long error is out: the others point to it */
        size_t n_excluded;      /* passed_over: the excluded first, then the ranked */
} pod_decision;

/* Rules (a) and (b) for one of maas and default: NULL when it qualifies (*why says how), else
 * why not. */
static const char *judge_named(ctx *c, const net_view *v, bool legacy, const char **why) {
        pf_arena *a = &c->r->arena;
        const char *where = v->declared ? "declared" : "on the host";
        if (v->pruned)
                return legacy ? "(legacy) podform created it and the configuration no longer declares it: this run prunes it"
                              : "(a) podform created it and the configuration no longer declares it: this run prunes it";
        if (!v->exists)
                return legacy ? "(legacy) no such libvirt network on the host, and none is declared"
                              : "(a) no such libvirt network on the host, and none is declared";
        if (!v->active)
                return pf_arena_printf(a, "(%s) %s", legacy ? "legacy" : "a", v->declared
                                       ? "declared with active: false; a VM on it could not start"
                                       : "inactive on the host; a VM on it could not start (start it, or declare it)");
        if (legacy) {
                *why = pf_arena_printf(a, "libvirt network '%s' exists (%s); attachPolicy: legacy checks nothing more (MAAS 2.4)",
                                       v->name, where);
                return NULL;
        }
        if (v->dhcp)
                return "(a) its libvirt DHCP is on (an <ip> with <dhcp>), which breaks PXE from MAAS";
        if (v->managed) {
                *why = pf_arena_printf(a, "libvirt network '%s' (%s): its libvirt DHCP is off and libvirt manages it (b)",
                                       v->name, where);
                return NULL;
        }
        if (v->bridge) {
                const pf_subnet *s = dhcp_subnet_of(c, v->bridge);
                if (s) {
                        *why = pf_arena_printf(a, "libvirt network '%s' (%s): its libvirt DHCP is off and its bridge %s is "
                                               "on the VLAN of Subnet %s (dhcp: %s) (b)", v->name, where, v->bridge,
                                               s->meta.name, dhcp_name(s));
                        return NULL;
                }
                return pf_arena_printf(a, "(b) it forwards to bridge %s, which no DHCP-enabled Subnet lists", v->bridge);
        }
        for (size_t i = 0; i < v->n_devs; i++) {
                const pf_subnet *s = dhcp_subnet_of(c, v->devs[i]);
                if (s) {
                        *why = pf_arena_printf(a, "libvirt network '%s' (%s): its libvirt DHCP is off and its device %s is "
                                               "on the VLAN of Subnet %s (dhcp: %s) (b)", v->name, where, v->devs[i],
                                               s->meta.name, dhcp_name(s));
                        return NULL;
                }
        }
        return v->n_devs ? "(b) none of its forward devices is listed by a DHCP-enabled Subnet"
                         : "(b) it is on no bridge podform can match to a Subnet";
}

static void decide_pod(ctx *c, pod_decision *p) {
        p->done = true;
        pf_arena *a = &c->r->arena;
        bool legacy = c->host->attach_policy == PF_ATTACH_LEGACY;
        static const char *const named[] = { "maas", "default" };
        for (size_t k = 0; k < 2; k++) {
                net_view v = view_network(c, named[k]);
                const char *why = NULL, *no = judge_named(c, &v, legacy, &why);
                if (!no) {
                        p->ok = true;
                        p->rule = legacy ? PF_RULE_LEGACY : PF_RULE_A;
                        p->target = PF_TARGET_NETWORK;
                        p->source = named[k];
                        p->reason = why;
                        return;
                }
                strs_add(a, &p->passed_over, "libvirt network '%s': %s", named[k], no);
        }
        if (legacy) {
                p->error = "attachPolicy: legacy (MAAS 2.4) attaches only to a libvirt network named maas or default";
                return;
        }
        /* (c) and (d) */
        EACH(s, c->m->subnets) EACH(i, s->interfaces) {
                const char *ifname = i->name;
                if (!ifname)
                        continue;
                const char *kind = link_kind(c, ifname);
                if (!dhcp_enabled(s)) {
                        strs_add(a, &p->passed_over, "%s (Subnet %s): (c) its VLAN is not DHCP-enabled (dhcp: %s; managed "
                                 "or relay is)", ifname, s->meta.name, dhcp_name(s));
                        continue;
                }
                if (!kind) {
                        strs_add(a, &p->passed_over, "%s (Subnet %s): (c) no such link on the host, and none is declared",
                                 ifname, s->meta.name);
                        continue;
                }
                cand x = { ifname, s, subnet_free(c, s), 0 };
                if (!x.free) {
                        strs_add(a, &p->passed_over, "%s (Subnet %s): (d) its Subnet has no free address", ifname,
                                 s->meta.name);
                        continue;
                }
                if (strcmp(kind, "bridge")) {
                        const char *port_of = link_port_of(c, ifname);
                        if (!macvtap_parent(ifname, kind)) {
                                strs_add(a, &p->passed_over, "%s (Subnet %s): (c2) it is a %s; a VM's macvtap goes on a NIC",
                                         ifname, s->meta.name, !strcmp(ifname, "lo") ? "loopback device" : kind);
                                continue;
                        }
                        if (port_of) {
                                bool listed = false;
                                EACH(j, s->interfaces) listed |= j->name && !strcmp(j->name, port_of);
                                strs_add(a, &p->passed_over, "%s (Subnet %s): (c2) it is a port of bridge %s, and the kernel "
                                         "puts no macvtap on a bridge port%s%s%s", ifname, s->meta.name, port_of,
                                         listed ? "" : " (list ", listed ? "" : port_of, listed ? "" : " in the Subnet instead)");
                                continue;
                        }
                        x.rank = 1;
                }
                cands_add(&p->ranked, x);
        }
        if (!p->ranked.n) {
                p->error = "no libvirt network maas or default qualifies (a, b), and no host bridge or NIC is on a "
                           "DHCP-enabled VLAN (c)";
                return;
        }
        qsort(p->ranked.v, p->ranked.n, sizeof(*p->ranked.v), cand_cmp);
        const cand *w = &p->ranked.v[0];
        p->ok = true;
        p->rule = w->rank == 0 ? PF_RULE_C1 : PF_RULE_C2;
        p->target = w->rank == 0 ? PF_TARGET_BRIDGE : PF_TARGET_DIRECT;
        p->source = w->ifname;
        p->subnet = w->s;
        p->free = w->free;
        size_t same_rank = 1;
        while (same_rank < p->ranked.n && p->ranked.v[same_rank].rank == w->rank)
                same_rank++;
        p->by_d = same_rank > 1;
        const char *fr = free_text(a, w->free);
        const char *what = w->rank == 0
                ? pf_arena_printf(a, "host bridge %s is on the VLAN of Subnet %s (dhcp: %s, %s free addresses) (c1)",
                                  w->ifname, w->s->meta.name, dhcp_name(w->s), fr)
                : pf_arena_printf(a, "a macvtap (mode %s, the Host's default) on host NIC %s, on the VLAN of Subnet %s "
                                  "(dhcp: %s, %s free addresses) (c2)", pf_enum_name(&pf_macvlan_mode_enum,
                                  c->host->default_macvlan_mode), w->ifname, w->s->meta.name, dhcp_name(w->s), fr);
        if (p->by_d)
                what = pf_arena_printf(a, "%s; rule (d): %s among %zu candidates of this rank", what,
                                       d_phrase(w, &p->ranked.v[1]), same_rank);
        p->reason = what;
        p->n_excluded = p->passed_over.n;
        explain_ranks(a, &p->passed_over, &p->ranked, w, "(c) ");
}

static pf_attachment *new_attachment(ctx *c) {
        c->att = arena_room(&c->r->arena, c->att, c->n_att, &c->cap_att, sizeof(*c->att));
        pf_attachment *x = &c->att[c->n_att++];
        memset(x, 0, sizeof(*x));
        return x;
}

static const char *src_path(pf_loc l) { return l.src && l.src->path ? l.src->path : "?"; }

static pf_loc net_loc(const pf_vm *vm, const pf_vm_net *n) {
        return pf_loc_set(n->backend_loc) ? n->backend_loc
               : pf_loc_set(n->loc) ? n->loc
               : pf_loc_set(vm->autoattach_pod_interface_loc) ? vm->autoattach_pod_interface_loc
               : vm->meta.name_loc;
}

static void attach_pod(ctx *c, pod_decision *p, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        if (c->no_host)
                return;
        if (!p->done)
                decide_pod(c, p);
        pf_arena *a = &c->r->arena;
        const char *name = i->name ? i->name : "?";
        if (!p->ok) {
                pf_loc at = net_loc(vm, n);
                if (p->reported) {
                        pf_error(c->d, at, "no target for the pod network of interface '%s' (spec 3.1): see the error at %s:%u:%u",
                                 name, src_path(p->first_error), p->first_error.line, p->first_error.col);
                        return;
                }
                p->reported = true;
                p->first_error = at;
                pf_error(c->d, at, "no target for the pod network of interface '%s' (spec 3.1): %s:\n  - %s\n  %s", name,
                         p->error, join(a, &p->passed_over, "\n  - "), c->host->attach_policy == PF_ATTACH_LEGACY
                         ? "declare a Network named maas or default (active), or use attachPolicy: auto"
                         : "declare a Subnet with dhcp: managed or relay that lists a host bridge or NIC, or a Network "
                           "named maas without dhcp");
                return;
        }
        pf_attachment *x = new_attachment(c);
        *x = (pf_attachment) { .vm = vm, .iface = i, .net = n, .target = p->target, .source = p->source,
                               .mode = c->host->default_macvlan_mode, .rule = p->rule, .by_d = p->by_d,
                               .subnet = p->subnet, .free = p->free, .reason = p->reason,
                               .passed_over = p->passed_over.v, .n_passed_over = p->passed_over.n,
                               .shares_passed_over = true };
        if (n->backend == PF_BACKEND_MULTUS && n->network_name)
                x->reason = pf_arena_printf(a, "%s; networkName '%s' is not used: with default: true this is the pod "
                                            "network, which these rules place", x->reason, n->network_name);
        if (p->by_d) {
                const cand *k = kept_candidate(c, &p->ranked, vm, i);
                if (k) {
                        x->source = k->ifname;
                        x->subnet = k->s;
                        x->free = k->free;
                        x->kept = true;
                        x->reason = pf_arena_printf(a, "stays on %s (Subnet %s), where it is: that qualifies under rule (%s) "
                                                    "too, and rule (d), which ranks %s first, only places new interfaces",
                                                    k->ifname, k->s->meta.name, pf_attach_rule_name(p->rule), p->source);
                        /* its own alternatives: the winner instead of itself */
                        strs own = { 0 };
                        for (size_t j = 0; j < p->n_excluded; j++)
                                strs_add(a, &own, "%s", p->passed_over.v[j]);
                        explain_ranks(a, &own, &p->ranked, k, "(c) ");
                        x->passed_over = own.v;
                        x->n_passed_over = own.n;
                        x->shares_passed_over = false;
                }
        }
}

/* A pod interface with the slirp or masquerade binding: QEMU's user networking, whatever the
 * host has (spec 3, the table); listed so that the plan accounts for every pod interface. */
static void attach_user(ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        bool passt = i->binding == PF_BINDING_MASQUERADE;
        pf_attachment *x = new_attachment(c);
        *x = (pf_attachment) { .vm = vm, .iface = i, .net = n, .target = PF_TARGET_USER, .source = passt ? "passt" : "slirp",
                               .rule = PF_RULE_BINDING,
                               .reason = passt ? "the masquerade binding: QEMU's user networking through passt, not a host "
                                                 "network (rules a to d place the bridge binding)"
                                               : "the slirp binding: QEMU's user networking, not a host network (rules a to d "
                                                 "place the bridge binding)" };
}

/* ---- constraints (3.2) ---- */

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
static bool earlier_claim(ctx *c, const pf_vm *vm, const pf_vm_net *n, const pf_vm **ovm, const pf_vm_net **on) {
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

static bool declared_vm(ctx *c, const char *name) {
        if (!c->vm_names) {
                c->vm_names = pf_xcalloc(c->m->vms.n + 1, sizeof(*c->vm_names));
                EACH(v, c->m->vms) if (v->meta.name) c->vm_names[c->n_vm_names++] = v->meta.name;
                qsort(c->vm_names, c->n_vm_names, sizeof(*c->vm_names), str_cmp);
        }
        return c->n_vm_names && bsearch(&name, c->vm_names, c->n_vm_names, sizeof(*c->vm_names), str_cmp);
}

/* The address checks (3.2): in a matching subnet (done by the caller), not the network or
 * broadcast address, not the gateway, not reserved, not taken. false after an error. */
static bool check_ip_in(ctx *c, const pf_vm_net *n, const pf_subnet *s) {
        char ip[64], w[64];
        pf_ip_format(&n->c_ip, ip);
        /* as usable() counts them: no network address (IPv6: subnet-router anycast) and no IPv4
         * broadcast, except on /31 and /32 (and /127, /128) */
        unsigned host = addr_bits(&s->cidr.ip) - s->cidr.prefix;
        pf_cidr net = pf_cidr_network(&s->cidr);
        bool v4 = s->cidr.ip.family == AF_INET;
        const char *what = host >= 2 && !pf_ip_cmp(&net.ip, &n->c_ip) ? (v4 ? "network" : "subnet-router anycast") : NULL;
        uint64_t o;
        if (!what && v4 && host >= 2 && offset_in(s, &n->c_ip, &o) && o == ((uint64_t) 1 << host) - 1)
                what = "broadcast";
        if (what) {
                pf_error(c->d, n->c_ip_loc, "constraint ip: %s is the %s address of Subnet %s (%s); pick a host address", ip,
                         what, s->meta.name, pf_cidr_format(&s->cidr, w));
                return false;
        }
        if (pf_loc_set(s->gateway_loc) && !pf_ip_cmp(&s->gateway, &n->c_ip)) {
                pf_error(c->d, n->c_ip_loc, "constraint ip: %s is the gateway of Subnet %s (%s:%u); pick another address",
                         ip, s->meta.name, src_path(s->gateway_loc), s->gateway_loc.line);
                return false;
        }
        EACH(r, s->reserved)
                if (r->start.family == n->c_ip.family && pf_ip_cmp(&r->start, &n->c_ip) <= 0 &&
                    pf_ip_cmp(&n->c_ip, &r->end) <= 0) {
                        pf_error(c->d, n->c_ip_loc, "constraint ip: %s is reserved in Subnet %s (%s:%u); pick an address "
                                 "outside its reserved ranges", ip, s->meta.name, src_path(r->loc), r->loc.line);
                        return false;
                }
        return true;
}

/* Whether a declared Bridge or Macvlan has the address as its own: the host's, not a VM's
 * (reported). */
static bool host_address(ctx *c, const pf_vm *vm, const pf_vm_net *n, const char *ip) {
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
                         "address", ip, kind, link, src_path(at), at.line);
        return kind != NULL;
}

/* ... in every matching Subnet that holds it (Subnets may overlap), and not taken. */
static bool check_ip(ctx *c, const pf_vm *vm, const pf_vm_net *n, const pf_subnet *const *subnets, size_t n_subnets) {
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
        const pf_nic_fact **first = c->n_claims ? bsearch(&kp, c->claims, c->n_claims, sizeof(*c->claims), claim_cmp) : NULL;
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

static void attach_constraints(ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        pf_arena *a = &c->r->arena;
        const char *name = i->name ? i->name : "?";
        bool failed = false;
        /* keys that cannot hold together */
        bool macvtap_binding = i->binding == PF_BINDING_MACVTAP;
        bool want_bridge = pf_loc_set(n->c_type_loc) && n->c_type == PF_CTYPE_BRIDGE;
        if (want_bridge && pf_loc_set(n->c_mode_loc)) {
                pf_error(c->d, n->c_mode_loc, "constraints mode and type: bridge conflict: mode is the mode of a macvtap; "
                         "drop mode, or give type: macvlan");
                failed = true;
        }
        if (want_bridge && macvtap_binding) {
                pf_error(c->d, n->c_type_loc, "constraint type: bridge conflicts with interface '%s', which uses the macvtap "
                         "binding; give type: macvlan or use the bridge binding", name);
                failed = true;
        }
        if (pf_loc_set(n->c_mode_loc) && pf_loc_set(i->macvtap_mode_loc) && n->c_mode != i->macvtap_mode) {
                pf_error(c->d, n->c_mode_loc, "constraint mode: %s conflicts with mode %s of interface '%s' (line %u); give "
                         "the mode once", pf_enum_name(&pf_macvlan_mode_enum, n->c_mode),
                         pf_enum_name(&pf_macvlan_mode_enum, i->macvtap_mode), name, i->macvtap_mode_loc.line);
                failed = true;
        }
        bool want_macvtap = macvtap_binding || pf_loc_set(n->c_mode_loc) ||
                            (pf_loc_set(n->c_type_loc) && n->c_type == PF_CTYPE_MACVLAN);

        /* the Subnets every key keeps */
        const pf_subnet **keep = pf_xcalloc(c->m->subnets.n + 1, sizeof(*keep));
        size_t nk = 0;
        EACH(s, c->m->subnets) if (subnet_usable_for(vm, s)) keep[nk++] = s;
        /* a key no Subnet has at all: validation's error (check_constraint_refs), which sees the
         * whole repository; here, scoped to one host, a Subnet of another host does not count */
        for (ckey k = 0; k < K_IP && !failed; k++) {
                bool any = false;
                for (size_t j = 0; j < nk && !any && key_given(n, k); j++)
                        any = key_keeps(n, k, keep[j]);
                if (key_given(n, k) && !any) {
                        if (!c->no_host) {
                                char v[64];
                                const char *val = k == K_SUBNET ? n->c_subnet : k == K_SPACE ? n->c_space
                                                  : k == K_FABRIC ? n->c_fabric : (snprintf(v, sizeof(v), "%u", n->c_vlan), v);
                                pf_error(c->d, key_loc(n, k), "constraint %s: no Subnet for this host matches %s (Subnets "
                                         "scoped to other hosts with metadata.host do not count); declare one for this "
                                         "host, or scope the VM", ckey_names[k], val);
                        }
                        free(keep);
                        return;
                }
        }
        size_t ns = nk;
        for (ckey k = 0; k < _K_MAX && !failed; k++) {
                if (!key_given(n, k))
                        continue;
                size_t left = 0;
                for (size_t j = 0; j < nk; j++)
                        left += key_keeps(n, k, keep[j]);
                if (left == 0) {
                        strs before = { 0 };
                        for (size_t j = 0; j < nk; j++)
                                strs_add(a, &before, "%s", describe_subnet(a, keep[j]));
                        char v[64];
                        const char *val = k == K_SUBNET ? n->c_subnet : k == K_SPACE ? n->c_space : k == K_FABRIC ? n->c_fabric
                                          : k == K_VLAN ? (snprintf(v, sizeof(v), "%u", n->c_vlan), v) : pf_ip_format(&n->c_ip, v);
                        if (nk == ns && k == K_IP)
                                pf_error(c->d, key_loc(n, k), "constraint ip: %s lies in no Subnet; declare one that "
                                         "contains it, or pick an address in one of: %s", val, join(a, &before, "; "));
                        else
                                pf_error(c->d, key_loc(n, k), "constraint %s: %s matches none of the Subnets the other "
                                         "constraints leave: %s", ckey_names[k], val,
                                         nk ? join(a, &before, "; ") : "(none)");
                        failed = true;
                        break;
                }
                size_t w = 0;
                for (size_t j = 0; j < nk; j++)
                        if (key_keeps(n, k, keep[j]))
                                keep[w++] = keep[j];
                nk = w;
        }
        if (!failed && pf_loc_set(n->c_ip_loc) && !check_ip(c, vm, n, keep, nk))
                failed = true;
        if (failed || c->no_host) {
                free(keep);
                return;
        }

        /* the interfaces of those Subnets, ranked */
        cands l = { 0 };
        strs passed = { 0 };
        for (size_t j = 0; j < nk; j++) {
                const pf_subnet *s = keep[j];
                EACH(it, s->interfaces) {
                        const char *ifname = it->name;
                        if (!ifname)
                                continue;
                        const char *kind = link_kind(c, ifname);
                        if (!kind) {
                                strs_add(a, &passed, "%s (Subnet %s): no such link on the host, and none is declared", ifname,
                                         s->meta.name);
                                continue;
                        }
                        bool bridge = !strcmp(kind, "bridge");
                        /* ranks: a bridge; a macvtap on a NIC; a macvtap on a bridge (MAAS: a macvtap goes
                         * on a non-bridge interface; the kernel takes a bridge too) */
                        cand x = { ifname, s, subnet_free(c, s), !bridge ? 1 : want_macvtap ? 2 : 0 };
                        if (want_bridge && !bridge) {
                                strs_add(a, &passed, "%s (Subnet %s): type: bridge, and it is a %s", ifname, s->meta.name, kind);
                                continue;
                        }
                        if (x.rank >= 1) {
                                const char *port_of = link_port_of(c, ifname);
                                if (!macvtap_parent(ifname, kind)) {
                                        strs_add(a, &passed, "%s (Subnet %s): it is a %s; a VM's macvtap goes on a NIC or "
                                                 "bridge", ifname, s->meta.name, !strcmp(ifname, "lo") ? "loopback device" : kind);
                                        continue;
                                }
                                if (port_of) {
                                        strs_add(a, &passed, "%s (Subnet %s): it is a port of bridge %s, and the kernel puts "
                                                 "no macvtap on a bridge port", ifname, s->meta.name, port_of);
                                        continue;
                                }
                        }
                        cands_add(&l, x);
                }
        }
        if (!l.n) {
                strs subs = { 0 };
                for (size_t j = 0; j < nk; j++)
                        strs_add(a, &subs, "%s", keep[j]->meta.name);
                const char *key = want_bridge ? "type: bridge" : want_macvtap ? (pf_loc_set(n->c_mode_loc) ? "mode"
                                  : pf_loc_set(n->c_type_loc) ? "type: macvlan" : "the macvtap binding") : NULL;
                pf_error(c->d, n->backend_loc, "constraints of interface '%s' match Subnet%s %s, but %sno host interface "
                         "of %s can take it:\n  - %s", name, nk == 1 ? "" : "s", join(a, &subs, ", "),
                         key ? pf_arena_printf(a, "with %s ", key) : "", nk == 1 ? "it" : "them",
                         passed.n ? join(a, &passed, "\n  - ") : "none lists an interface");
                free(l.v);
                free(keep);
                return;
        }
        qsort(l.v, l.n, sizeof(*l.v), cand_cmp);
        const cand *w = &l.v[0];
        pf_attachment *x = new_attachment(c);
        pf_macvlan_mode mode = pf_loc_set(n->c_mode_loc) ? n->c_mode
                             : pf_loc_set(i->macvtap_mode_loc) ? i->macvtap_mode : c->host->default_macvlan_mode;
        *x = (pf_attachment) { .vm = vm, .iface = i, .net = n, .target = w->rank == 0 ? PF_TARGET_BRIDGE : PF_TARGET_DIRECT,
                               .source = w->ifname, .mode = mode, .rule = PF_RULE_CONSTRAINTS, .subnet = w->s,
                               .free = w->free };
        size_t same_rank = 1;
        while (same_rank < l.n && l.v[same_rank].rank == w->rank)
                same_rank++;
        x->by_d = same_rank > 1;
        if (pf_loc_set(n->c_ip_loc)) {
                x->has_ip = true;
                x->ip = n->c_ip;
        }
        const char *what = w->rank == 0
                ? pf_arena_printf(a, "bridge %s of matching Subnet %s (a bridge before a macvtap)", w->ifname, w->s->meta.name)
                : w->rank == 2
                ? pf_arena_printf(a, "a macvtap (mode %s) on bridge %s of matching Subnet %s (no matching NIC)",
                                  pf_enum_name(&pf_macvlan_mode_enum, mode), w->ifname, w->s->meta.name)
                : pf_arena_printf(a, "a macvtap (mode %s) on %s of matching Subnet %s%s", pf_enum_name(&pf_macvlan_mode_enum, mode),
                                  w->ifname, w->s->meta.name, want_macvtap ? "" : " (no matching bridge)");
        if (x->by_d)
                what = pf_arena_printf(a, "%s; rule (d): %s (%s) among %zu candidates", what, d_phrase(w, &l.v[1]),
                                       free_text(a, w->free), same_rank);
        x->reason = what;
        const cand *k = x->by_d ? kept_candidate(c, &l, vm, i) : NULL;
        if (k) {
                x->source = k->ifname;
                x->subnet = k->s;
                x->free = k->free;
                x->kept = true;
                x->reason = pf_arena_printf(a, "stays on %s (Subnet %s), where it is: it matches the constraints too, and "
                                            "rule (d), which ranks %s first, only places new interfaces", k->ifname,
                                            k->s->meta.name, w->ifname);
        }
        explain_ranks(a, &passed, &l, k ? k : w, "");
        if (x->has_ip) {
                /* the Subnet that holds the address is the one recorded */
                for (size_t j = 0; j < nk; j++)
                        if (pf_ip_in_cidr(&x->ip, &keep[j]->cidr)) {
                                x->subnet = keep[j];
                                x->free = subnet_free(c, keep[j]);
                                break;
                        }
        }
        x->passed_over = passed.v;
        x->n_passed_over = passed.n;
        free(l.v);
        free(keep);
}

/* ---- DHCP boot options (3.4) ---- */

/* The boot options already asked of n by an interface that can meet vm on a host. */
static pf_bootp *find_bootp(ctx *c, const pf_network *n, const pf_vm *vm) {
        for (size_t i = 0; i < c->n_bp; i++)
                if (c->bp[i].network == n && pf_meta_compatible(&c->bp[i].vm->meta, &vm->meta))
                        return &c->bp[i];
        return NULL;
}

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void boot_options(ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n, const pf_attachment *x) {
        pf_loc at = pf_loc_set(i->boot_file_name_loc) ? i->boot_file_name_loc : i->tftp_server_name_loc;
        const char *key = pf_loc_set(i->boot_file_name_loc) ? "bootFileName" : "tftpServerName";
        const char *name = i->name ? i->name : "?";
        const char *netname = NULL;
        if (pf_net_is_pod(n)) {
                /* the pod network is the host's to decide; and validate must accept KubeVirt's own
                 * examples (spec section 2), which give boot options to a masquerade interface */
                if (c->no_host)
                        return;
                if (i->binding == PF_BINDING_SLIRP || i->binding == PF_BINDING_MASQUERADE) {
                        pf_error(c->d, at, "%s: interface '%s' uses QEMU's user networking (%s), whose DHCP podform does "
                                 "not control; attach it to a Network with DHCP", key, name,
                                 pf_enum_name(&pf_binding_enum, i->binding));
                        return;
                }

                if (!x)
                        return;         /* unresolved: already an error */
                if (x->target != PF_TARGET_NETWORK) {
                        pf_arena a = { 0 };
                        pf_error(c->d, at, "%s: the pod network of this host is %s (rule %s), where no DHCP server podform "
                                 "controls would serve it; drop %s, or attach interface '%s' to a Network with DHCP", key,
                                 pf_attachment_target(&a, x), pf_attach_rule_name(x->rule), key, name);
                        pf_arena_free(&a);
                        return;
                }
                netname = x->source;
        } else if (n->backend == PF_BACKEND_NETWORK) {
                netname = n->network;
        } else if (n->backend == PF_BACKEND_MULTUS || n->backend == PF_BACKEND_GENIE) {
                netname = n->network_name;
                if (c->no_host && netname && !declared_network_for(c->m, vm, netname))
                        return;         /* a live network or a bridge: only the host can tell */
                if (netname && !view_network(c, netname).exists) {
                        pf_error(c->d, at, "%s: network '%s' is a host bridge, where no DHCP server podform controls would "
                                 "serve it; drop %s, or use a Network with DHCP", key, netname, key);
                        return;
                }
        }
        if (!netname)
                return;         /* host, macvtap and constraints networks: validation reports them */
        const pf_network *net = declared_network_for(c->m, vm, netname);
        if (!net) {
                pf_error(c->d, at, "%s: libvirt network '%s' is not declared in the configuration, so podform does not "
                         "manage its DHCP; declare Network '%s' with dhcp, or drop %s", key, netname, netname, key);
                return;
        }
        size_t ipi = net->ips.n;
        for (size_t k = 0; k < net->ips.n && ipi == net->ips.n; k++)
                if (net->ips.v[k].address.family == AF_INET && pf_loc_set(net->ips.v[k].dhcp_loc))
                        ipi = k;
        if (ipi == net->ips.n && x && x->rule == PF_RULE_A) {
                pf_error(c->d, at, "%s: the pod network of this host is Network '%s' (rule a), which serves no DHCP, and "
                         "rule a never takes one that does: MAAS's DHCP serves boot files there; drop %s", key, netname, key);
                return;
        }
        if (ipi == net->ips.n) {
                pf_error(c->d, at, "%s: Network '%s' (%s:%u) serves no DHCP on IPv4; give it ips[].dhcp, or drop %s", key,
                         netname, src_path(net->meta.name_loc), net->meta.name_loc.line, key);
                return;
        }
        if (!pf_loc_set(i->boot_file_name_loc)) {
                pf_error(c->d, i->tftp_server_name_loc, "tftpServerName needs bootFileName: libvirt's bootp option names "
                         "a file, and the server is optional");
                return;
        }
        pf_ip server_ip;
        if (i->tftp_server_name && pf_parse_ip(i->tftp_server_name, &server_ip)) {
                pf_error(c->d, i->tftp_server_name_loc, "tftpServerName: libvirt's bootp takes the server's IP address, not "
                         "a name; give the address of '%s'", i->tftp_server_name);
                return;
        }
        const pf_net_ip *ip = &net->ips.v[ipi];
        if (ip->bootp_file && (strcmp(ip->bootp_file, i->boot_file_name) ||
                               (i->tftp_server_name && !same_str(ip->bootp_server, i->tftp_server_name)))) {
                pf_error(c->d, at, "%s: Network '%s' already serves bootp file '%s'%s%s (%s:%u), and a libvirt network "
                         "serves one bootp option to all its guests; make them agree, or keep one", key, netname,
                         ip->bootp_file, ip->bootp_server ? " from " : "", ip->bootp_server ? ip->bootp_server : "",
                         src_path(ip->bootp_loc), ip->bootp_loc.line);
                return;
        }
        const char *server = i->tftp_server_name ? i->tftp_server_name : ip->bootp_server;
        pf_bootp *b = find_bootp(c, net, vm);
        if (b) {
                if (strcmp(b->file, i->boot_file_name) || !same_str(b->server, server)) {
                        pf_loc o = b->iface->boot_file_name_loc;
                        pf_error(c->d, at, "%s: interface '%s' asks Network '%s' for bootp file '%s'%s%s, but interface "
                                 "'%s' of VM %s (%s:%u) asks for '%s'%s%s, and a libvirt network serves one bootp option "
                                 "to all its guests; make them agree", key, name, netname, i->boot_file_name,
                                 server ? " from " : "", server ? server : "", b->iface->name ? b->iface->name : "?",
                                 b->vm->meta.name, src_path(o), o.line, b->file, b->server ? " from " : "",
                                 b->server ? b->server : "");
                }
                return;
        }
        c->bp = arena_room(&c->r->arena, c->bp, c->n_bp, &c->cap_bp, sizeof(*c->bp));
        c->bp[c->n_bp++] = (pf_bootp) { .network = net, .vm = vm, .iface = i, .ip_index = ipi,
                                        .file = i->boot_file_name, .server = server };
}

/* ---- the whole configuration ---- */

static const pf_vm_net *net_of(const pf_vm *vm, const char *name) {
        EACH(n, vm->networks) if (name && n->name && !strcmp(n->name, name)) return n;
        return NULL;
}

static void resolve(const pf_model *m, const pf_host *host, const pf_attach_facts *f, bool no_host,
                    pf_attach_result *r, pf_diags *d) {
        static const pf_attach_facts none = { 0 };
        ctx c = { .m = m, .host = host, .f = f ? f : &none, .r = r, .d = d, .no_host = no_host };
        c.free_of = pf_xcalloc(m->subnets.n + 1, sizeof(*c.free_of));
        c.free_known = pf_xcalloc(m->subnets.n + 1, sizeof(*c.free_known));
        c.nics = pf_xcalloc(c.f->n_nics + 1, sizeof(*c.nics));
        c.claims = pf_xcalloc(c.f->n_nics + 1, sizeof(*c.claims));
        for (size_t k = 0; k < c.f->n_nics; k++) {
                c.nics[k] = &c.f->nics[k];
                if (c.f->nics[k].has_ip)
                        c.claims[c.n_claims++] = &c.f->nics[k];
        }
        qsort(c.nics, c.f->n_nics, sizeof(*c.nics), nic_cmp);
        qsort(c.claims, c.n_claims, sizeof(*c.claims), claim_cmp);
        size_t n_given = 0;
        EACH(vm, m->vms) EACH(n, vm->networks) n_given += vm_net_has_ip(n);
        c.given = pf_xcalloc(n_given + 1, sizeof(*c.given));
        EACH(vm, m->vms) EACH(n, vm->networks)
                if (vm_net_has_ip(n) && !vm->meta.load_failed)
                        c.given[c.n_given] = (given) { n->c_ip, c.n_given, vm, n }, c.n_given++;
        qsort(c.given, c.n_given, sizeof(*c.given), given_cmp);
        pod_decision pod = { 0 };
        size_t errors_before = d ? d->n_errors : 0;
        EACH(vm, m->vms) {
                if (vm->meta.load_failed)
                        continue;
                EACH(i, vm->interfaces) {
                        const pf_vm_net *n = net_of(vm, i->name);
                        if (!n)
                                continue;
                        size_t before = c.n_att;
                        if (n->backend == PF_BACKEND_CONSTRAINTS)
                                attach_constraints(&c, vm, i, n);
                        else if (pf_net_is_pod(n) && (i->binding == PF_BINDING_BRIDGE || i->binding == PF_BINDING_NONE))
                                attach_pod(&c, &pod, vm, i, n);
                        else if (pf_net_is_pod(n) && (i->binding == PF_BINDING_SLIRP || i->binding == PF_BINDING_MASQUERADE) &&
                                 !c.no_host)
                                attach_user(&c, vm, i, n);
                        if (pf_loc_set(i->boot_file_name_loc) || pf_loc_set(i->tftp_server_name_loc))
                                boot_options(&c, vm, i, n, c.n_att > before ? &c.att[c.n_att - 1] : NULL);
                }
        }
        free(pod.ranked.v);
        free(c.free_of);
        free(c.free_known);
        free(c.nics);
        free(c.claims);
        free(c.given);
        free(c.vm_names);
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
