/* rank.c: the candidates of rules (c) and (d) and of constraints: their order, the
 * one a live domain keeps, and why each of the others was passed over. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "resolve/attach_internal.h"
#include "util/xalloc.h"

/* Rule (d) as MAAS states it: IPv4 subnets by free addresses, most first (IPv6 ones after
 * them: any IPv6 subnet would otherwise win), then by Subnet name, then by interface name. */
int rank_cmp(const void *a, const void *b) {
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

void rank_add(cands *l, cand x) {
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->v[i].ifname, x.ifname) && l->v[i].rank == x.rank) {
                        /* one interface on several Subnets: its best one speaks for it */
                        if (rank_cmp(&x, &l->v[i]) < 0)
                                l->v[i] = x;
                        return;
                }
        if (l->n == l->cap)
                l->v = pf_xreallocarray(l->v, l->cap = l->cap ? 2 * l->cap : 8, sizeof(*l->v));
        l->v[l->n++] = x;
}

size_t rank_same(const cands *l) {
        size_t same = 1;
        while (same < l->n && l->v[same].rank == l->v[0].rank)
                same++;
        return same;
}

/* Not on another macvtap or macvlan (one per VM interface), a tun/tap or the loopback device
 * (no Ethernet). */
bool rank_macvtap_parent(const char *ifname, const char *kind) {
        return strcmp(kind, "macvtap") && strcmp(kind, "macvlan") && strcmp(kind, "tun") && strcmp(ifname, "lo");
}

const char *rank_d_phrase(const cand *w, const cand *n2) {
        bool w6 = w->s->cidr.ip.family == AF_INET6, n6 = n2->s->cidr.ip.family == AF_INET6;
        if (w6 != n6)
                return "an IPv4 Subnet before IPv6 ones";
        return n2->free == w->free ? "as many free addresses as the next, and first by name" : "the most free addresses";
}

const char *rank_free_text(pf_arena *a, uint64_t n) {
        return n == UINT64_MAX ? "2^64 or more" : pf_arena_printf(a, "%llu", (unsigned long long) n);
}

const cand *rank_kept(attach_ctx *c, const cands *l, const pf_vm *vm, const pf_iface *i) {
        const pf_nic_fact *x = vm->meta.name && i->name ? attach_live_nic(c, vm->meta.name, i->name) : NULL;
        if (!x || !x->type || !x->source)
                return NULL;
        for (size_t k = 1; k < l->n && l->v[k].rank == l->v[0].rank; k++) {
                const char *type = l->v[k].rank == 0 ? "bridge" : "direct";     /* 1, 2: a macvtap */
                if (!strcmp(x->type, type) && !strcmp(x->source, l->v[k].ifname))
                        return &l->v[k];
        }
        return NULL;
}

/* Rule (d)'s first comes last, when the interface stays elsewhere (kept). */
void rank_explain(pf_arena *a, strs *out, const cands *l, const cand *placed, const char *c) {
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
                                 o->s->meta.name, w->ifname, rank_free_text(a, o->free),
                                 o->free == w->free ? ", as many; then by name" : "");
        }
        if (placed != w)
                strs_add(a, out, "%s (Subnet %s): (d) ranks first, but the interface stays where it is", w->ifname,
                         w->s->meta.name);
}
