/* ipam.c: the addresses of Subnets (spec section 2): which offsets of a CIDR are usable, and how
 * many of them are free, the count rule (d) ranks by. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/values.h"
#include "resolve/attach_internal.h"
#include "util/xalloc.h"

bool ipam_dhcp_enabled(const pf_subnet *s) {
        return s->dhcp == PF_SUBNET_DHCP_MANAGED || s->dhcp == PF_SUBNET_DHCP_RELAY;
}

unsigned ipam_addr_bits(const pf_ip *ip) { return ip->family == AF_INET6 ? 128 : 32; }

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

bool ipam_offset_in(const pf_subnet *s, const pf_ip *ip, uint64_t *ret) {
        if (!pf_ip_in_cidr(ip, &s->cidr))
                return false;
        unsigned host = ipam_addr_bits(ip) - s->cidr.prefix;
        uint64_t mask = host >= 64 ? UINT64_MAX : ((uint64_t) 1 << host) - 1;
        *ret = low64(ip) & mask;
        return true;
}

/* The usable offsets of s: IPv4 drops the network and broadcast addresses except on /31 and
 * /32 (RFC 3021). */
static void usable(const pf_subnet *s, uint64_t *lo, uint64_t *hi) {
        unsigned host = ipam_addr_bits(&s->cidr.ip) - s->cidr.prefix;
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

bool ipam_vm_net_has_ip(const pf_vm_net *n) {
        return n->backend == PF_BACKEND_CONSTRAINTS && pf_loc_set(n->c_ip_loc);
}

/* The taken offsets of s (host part under 64 bits), unsorted, in *ret (malloc'd): its gateway,
 * its reserved ranges and the constraint addresses of m in it. Returns how many. */
static size_t taken_spans(const pf_model *m, const pf_subnet *s, span **ret) {
        unsigned host = ipam_addr_bits(&s->cidr.ip) - s->cidr.prefix;
        size_t cap = 1 + s->reserved.n, n = 0;
        EACH(vm, m->vms) EACH(net, vm->networks) cap += ipam_vm_net_has_ip(net);
        span *v = pf_xcalloc(cap, sizeof(*v));
        uint64_t o, e;
        if (pf_loc_set(s->gateway_loc) && ipam_offset_in(s, &s->gateway, &o))
                v[n++] = (span) { o, o };
        EACH(r, s->reserved)
                if (ipam_offset_in(s, &r->start, &o)) {
                        if (!ipam_offset_in(s, &r->end, &e))
                                e = ((uint64_t) 1 << host) - 1;
                        v[n++] = (span) { o, e };
                }
        EACH(vm, m->vms) EACH(net, vm->networks)
                if (ipam_vm_net_has_ip(net) && pf_meta_compatible(&vm->meta, &s->meta) &&
                    ipam_offset_in(s, &net->c_ip, &o))
                        v[n++] = (span) { o, o };
        *ret = v;
        return n;
}

uint64_t pf_subnet_free(const pf_model *m, const pf_subnet *s) {
        unsigned host = ipam_addr_bits(&s->cidr.ip) - s->cidr.prefix;
        if (host >= 64)
                return UINT64_MAX;
        uint64_t lo, hi;
        usable(s, &lo, &hi);
        _cleanup_free_ span *v = NULL;
        size_t n = taken_spans(m, s, &v);
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
        return total - taken;
}

uint64_t ipam_free(attach_ctx *c, const pf_subnet *s) {
        size_t i = (size_t) (s - c->m->subnets.v);
        if (!c->free_known[i]) {
                c->free_of[i] = pf_subnet_free(c->m, s);
                c->free_known[i] = true;
        }
        return c->free_of[i];
}

const pf_subnet *ipam_dhcp_subnet_of(attach_ctx *c, const char *ifname) {
        const pf_subnet *best = NULL;
        EACH(s, c->m->subnets) {
                if (!ipam_dhcp_enabled(s))
                        continue;
                EACH(i, s->interfaces) if (i->name && !strcmp(i->name, ifname) && !best) best = s;
        }
        return best;
}
