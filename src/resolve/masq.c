/* masq.c: the NICs of podform's NAT network and their addresses (masq.h). */
#include "config.h"
#include "resolve/masq.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/values.h"
#include "util/hash.h"
#include "util/xalloc.h"

void pf_masq_add(pf_masq *m, const pf_vm *vm, const pf_iface *i, const pf_mac *mac) {
        if (m->n == m->cap)
                m->v = pf_xreallocarray(m->v, m->cap = m->cap ? 2 * m->cap : 8, sizeof(*m->v));
        m->v[m->n++] = (pf_masq_nic) { .vm = vm, .iface = i, .mac = *mac };
}

void pf_masq_free(pf_masq *m) {
        free(m->v);
        *m = (pf_masq) { 0 };
}

static uint32_t ip4(const pf_ip *ip) {
        return (uint32_t) ip->addr[0] << 24 | (uint32_t) ip->addr[1] << 16 | (uint32_t) ip->addr[2] << 8 | ip->addr[3];
}

static pf_ip from_ip4(uint32_t v) {
        return (pf_ip) { .family = AF_INET, .addr = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v } };
}

pf_ip pf_masq_gateway(const pf_cidr *range) { return from_ip4(ip4(&range->ip) + 1); }

static int cmp_nic(const void *a, const void *b) {
        const pf_masq_nic *x = a, *y = b;
        int c = strcmp(x->vm->meta.name ? x->vm->meta.name : "", y->vm->meta.name ? y->vm->meta.name : "");
        return c ? c : strcmp(x->iface->name ? x->iface->name : "", y->iface->name ? y->iface->name : "");
}

/* Guest addresses are range offsets 2 .. size-2: not the network, the gateway, the broadcast. */
typedef struct taken { bool *v; uint32_t base, n; } taken;

static bool take(taken *t, uint32_t addr) {
        if (addr < t->base + 2 || addr - t->base - 2 >= t->n || t->v[addr - t->base - 2])
                return false;
        return (t->v[addr - t->base - 2] = true);
}

void pf_masq_assign(pf_masq *m, const pf_cidr *range, bool (*live)(void *ud, const pf_mac *mac, pf_ip *ret),
                    void *ud, const pf_ip *kept, size_t n_kept, pf_diags *d) {
        if (!m->n || range->ip.family != AF_INET || range->prefix > 30)
                return;
        qsort(m->v, m->n, sizeof(*m->v), cmp_nic);
        uint32_t size = range->prefix ? (uint32_t) 1 << (32 - range->prefix) : 0;
        taken t = { .base = ip4(&range->ip), .n = size ? size - 3 : UINT32_MAX - 3 };
        if (t.n > 1u << 20)
                t.n = 1u << 20;         /* a map of a million addresses is plenty to hash into */
        t.v = pf_xcalloc(t.n, sizeof(*t.v));
        bool *done = pf_xcalloc(m->n, sizeof(*done));
        uint32_t used = 0;
        for (size_t i = 0; i < n_kept; i++)
                if (kept[i].family == AF_INET && pf_ip_in_cidr(&kept[i], range))
                        used += take(&t, ip4(&kept[i]));
        for (size_t i = 0; live && i < m->n; i++) {
                pf_ip ip;
                done[i] = live(ud, &m->v[i].mac, &ip) && ip.family == AF_INET && pf_ip_in_cidr(&ip, range) &&
                          take(&t, ip4(&ip));
                if (done[i])
                        m->v[i].ip = ip;
        }
        for (size_t i = 0; i < m->n; i++)
                used += done[i];
        for (size_t i = 0; i < m->n; i++) {
                if (done[i])
                        continue;
                if (used == t.n) {
                        char c[64];
                        pf_error(d, m->v[i].iface->loc, "interface '%s' of VM %s: podform's NAT network %s has no address "
                                 "left for it (the Host's vmNetworkCIDR); give the Host a larger vmNetworkCIDR",
                                 m->v[i].iface->name, m->v[i].vm->meta.name, pf_cidr_format(range, c));
                        continue;
                }
                uint32_t off = (uint32_t) (pf_fnv1a(PF_FNV_OFFSET, m->v[i].mac.b, 6) % t.n);
                while (!take(&t, t.base + 2 + off))
                        off = (off + 1) % t.n;
                m->v[i].ip = from_ip4(t.base + 2 + off);
                used++;
        }
        free(done);
        free(t.v);
}
