/* nat.c: a VM's NAT rules, for the masquerade binding where libvirt has no passt: its address
 * masqueraded on the way out, and each declared port of its interface forwarded (DNAT) from the
 * host's own addresses to the guest, in podform's nftables table (nft/nft.h). One object per VM,
 * named after it; its rules carry the comment "VM/INTERFACE". The kind also desires the NAT
 * network itself (resolve/masq.h), through the Network kind, so the plan shows it, before the
 * domain; the rules come after the domain, pointing at the address its DHCP host entry fixes.
 *
 * The network is libvirt's forward mode "open": libvirt adds no firewall rules of its own, whose
 * reject of new connections into a NAT network no accept in another table could override; this
 * table does the NAT instead. Everything in the table is podform's: a rule someone edited is a
 * difference the next apply replaces, and one that is no VM's is deleted with --prune. */
#include "config.h"
#include "kinds/nat.h"

#include <stdlib.h>
#include <string.h>

#include "config/values.h"
#include "kinds/network.h"
#include "nft/nft.h"
#include "resolve/masq.h"
#include "util/xalloc.h"

/* The object of rules whose comment names no VM. */
#define NO_VM "(no VM)"

/* "VM/IFACE": the VM, and the interface (NULL when the comment has no '/'). */
static const char *comment_vm(pf_arena *a, const char *comment, const char **iface) {
        const char *slash = comment ? strchr(comment, '/') : NULL;
        *iface = slash && slash[1] ? slash + 1 : NULL;
        if (!slash || slash == comment)
                return NO_VM;
        return pf_arena_strndup(a, comment, (size_t) (slash - comment));
}

/* The masquerade rule's value: the guest's address, and the destinations left alone. */
static const char *masq_value(pf_arena *a, const char *saddr, const char *except) {
        return pf_arena_printf(a, "%s except %s", saddr, except ? except : "nothing");
}

static const char *range_except(pf_arena *a, const pf_cidr *range) {
        char net[64];
        return pf_arena_printf(a, "%s,224.0.0.0/24,255.255.255.255", pf_cidr_format(range, net));
}

/* ---- observe ---- */

typedef struct live_rule { const char *vm, *key, *value; } live_rule;

static int cmp_live_rule(const void *a, const void *b) {
        const live_rule *x = a, *y = b;
        int c = strcmp(x->vm, y->vm);
        return c ? c : strcmp(x->key, y->key);
}

/* The field one rule makes, in the keys desire uses. */
static live_rule rule_field(pf_arena *a, const pf_nft_rule *r) {
        const char *iface;
        live_rule f = { .vm = comment_vm(a, r->comment, &iface) };
        bool out = !strcmp(r->chain, "output");
        bool dnat = r->dnat_addr && r->proto && r->fib_local && !r->saddr && !r->masquerade &&
                    (out ? r->daddr_except && !strcmp(r->daddr_except, PF_NFT_LOOPBACK) : !r->daddr_except);
        if (iface && !r->other && !strcmp(r->chain, "postrouting") && r->masquerade && r->saddr && !r->proto &&
            !r->dnat_addr && !r->fib_local) {
                f.key = pf_arena_printf(a, "masquerade[%s]", iface);
                f.value = masq_value(a, r->saddr, r->daddr_except);
        } else if (iface && !r->other && dnat && (!strcmp(r->chain, "prerouting") || !strcmp(r->chain, "output"))) {
                f.key = pf_arena_printf(a, "port[%s].%s/%u%s", iface, r->proto, r->dport,
                                        !strcmp(r->chain, "output") ? ".local" : "");
                f.value = pf_arena_printf(a, "%s:%u", r->dnat_addr, r->dnat_port);
        } else {
                f.key = pf_arena_printf(a, "rule[%s/%llu]", r->chain, (unsigned long long) r->handle);
                f.value = "a rule podform does not write";
        }
        return f;
}

static int observe(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err) {
        (void) self;
        if (!k->nft)
                return 0;
        if (pf_nft_observe(k->nft, err) < 0)
                return -1;
        size_t n = pf_nft_n_rules(k->nft);
        live_rule *v = pf_xcalloc(n + 1, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = rule_field(&have->arena, pf_nft_rule_at(k->nft, i));
        qsort(v, n, sizeof(*v), cmp_live_rule);
        pf_fields fb;
        pf_fields_init(&fb, &have->arena);
        for (size_t i = 0; i < n;) {
                size_t j = i;
                for (; j < n && !strcmp(v[j].vm, v[i].vm); j++)
                        pf_field_add(&fb, PF_LAND_LIVE, 0, v[j].value, "%s", v[j].key);
                if (strcmp(v[i].vm, NO_VM)) {
                        pf_need_add(&fb, PF_R_DOMAIN, v[i].vm);
                        pf_need_add(&fb, PF_R_NETWORK, PF_MASQ_NETWORK);
                }
                pf_obj *o = pf_objset_add(have, PF_R_NAT, v[i].vm);
                o->owned = o->active = true;    /* the table is podform's */
                pf_fields_finish(&fb, o);
                i = j;
        }
        pf_fields_free(&fb);
        free(v);
        return 0;
}

/* ---- desire ---- */

typedef struct live_ctx { const pf_obj *net; const char *gw; pf_arena *a; } live_ctx;

/* The address the live NAT network's DHCP host entry gives this MAC now. */
static bool live_ip(void *ud, const pf_mac *mac, pf_ip *ret) {
        live_ctx *c = ud;
        char m[32];
        const pf_field *f = c->net ? pf_obj_field(c->net, pf_arena_printf(c->a, "ip[%s].dhcp.host[%s]", c->gw,
                                                                             pf_mac_format(mac, m)))
                                   : NULL;
        if (!f || strncmp(f->value, "ip=", 3))
                return false;
        const char *ip = pf_arena_strndup(c->a, f->value + 3, strcspn(f->value + 3, " "));
        return !pf_parse_ip(ip, ret);
}

static bool vm_declared(const pf_model *model, const char *name) {
        for (size_t i = 0; i < model->vms.n; i++)
                if (model->vms.v[i].meta.name && !strcmp(model->vms.v[i].meta.name, name))
                        return true;
        return false;
}

/* The live host entries of the NAT network (gateway gw) that stay: a VM gone from the
 * configuration but still on the host (not pruned) keeps its address, so that no new VM gets
 * it, nor the forwards still pointing at it. */
static size_t kept_hosts(const pf_kind_ctx *k, const pf_objset *have, const pf_obj *net, const char *gw, pf_arena *a,
                         pf_dhcp_host **ret) {
        const char *prefix = pf_arena_printf(a, "ip[%s].dhcp.host[", gw);
        size_t plen = strlen(prefix), n = 0;
        *ret = pf_arena_array(a, net ? net->fields.n : 0, sizeof(**ret));
        for (size_t i = 0; net && i < net->fields.n; i++) {
                const pf_field *f = &net->fields.v[i];
                pf_dhcp_host h = { 0 };
                const char *name = f->value ? strstr(f->value, " name=") : NULL;
                if (strncmp(f->key, prefix, plen) || !name || strncmp(f->value, "ip=", 3))
                        continue;
                const char *mac = pf_arena_strndup(a, f->key + plen, strcspn(f->key + plen, "]"));
                const char *ip = pf_arena_strndup(a, f->value + 3, strcspn(f->value + 3, " "));
                if (pf_parse_mac(mac, &h.mac) || pf_parse_ip(ip, &h.ip))
                        continue;
                h.name = pf_arena_strdup(a, name + 6);
                bool declared_mac = false;
                for (size_t j = 0; j < k->masq->n && !declared_mac; j++)
                        declared_mac = !memcmp(k->masq->v[j].mac.b, h.mac.b, sizeof(h.mac.b));
                const pf_obj *vm = pf_objset_find(have, PF_R_DOMAIN, h.name);
                if (!declared_mac && vm && !vm_declared(k->model, h.name) && !(vm->owned && k->prune))
                        (*ret)[n++] = h;
        }
        return n;
}

/* The network all masquerade NICs share: forward open, DHCP only for their host entries (and
 * the kept ones of VMs that stay). */
static void desire_network(pf_kind_ctx *k, pf_objset *have, pf_objset *want, const pf_dhcp_host *kept, size_t n_kept,
                           pf_diags *d) {
        const pf_masq *m = k->masq;
        pf_arena *a = &want->arena;
        pf_dhcp_host *hosts = pf_arena_array(a, m->n + n_kept, sizeof(*hosts));
        pf_loc at = m->v[0].iface->loc;
        for (size_t i = 0; i < m->n; i++)
                hosts[i] = (pf_dhcp_host) { .mac = m->v[i].mac, .mac_loc = at, .ip = m->v[i].ip, .ip_loc = at,
                                            .name = m->v[i].vm->meta.name, .name_loc = at, .loc = at };
        for (size_t i = 0; i < n_kept; i++)
                hosts[m->n + i] = (pf_dhcp_host) { .mac = kept[i].mac, .mac_loc = at, .ip = kept[i].ip, .ip_loc = at,
                                                   .name = kept[i].name, .name_loc = at, .loc = at };
        pf_net_ip *ip = pf_arena_array(a, 1, sizeof(*ip));
        *ip = (pf_net_ip) { .address = pf_masq_gateway(&k->host->vm_network_cidr), .address_loc = at,
                            .prefix = k->host->vm_network_cidr.prefix, .prefix_loc = at, .dhcp_loc = at, .loc = at };
        ip->dhcp_hosts.v = hosts;
        ip->dhcp_hosts.n = m->n + n_kept;
        pf_network n = { .meta = { .name = PF_MASQ_NETWORK, .name_loc = at, .loc = at }, .forward = PF_FORWARD_OPEN,
                         .forward_loc = at, .bridge_name = PF_MASQ_NETWORK, .bridge_name_loc = at, .bridge_stp = false,
                         .bridge_stp_loc = at, .autostart = true, .active = true };
        n.ips.v = ip;
        n.ips.n = 1;
        pf_network_desire(k, have, want, &n, d);
}

/* Two interfaces forwarding one port of the host: only one can have it. */
static void check_port_taken(const pf_masq *m, size_t i, size_t p, pf_diags *d) {
        const pf_port *port = &m->v[i].iface->ports.v[p];
        for (size_t j = 0; j <= i; j++)
                for (size_t q = 0; q < m->v[j].iface->ports.n && (j < i || q < p); q++) {
                        const pf_port *o = &m->v[j].iface->ports.v[q];
                        if (o->port == port->port && o->protocol == port->protocol) {
                                pf_error(d, port->loc, "port %s/%u is forwarded to VM %s (interface '%s') already; the "
                                         "host has one such port: give this one another", port->protocol == PF_PROTO_UDP
                                         ? "UDP" : "TCP", port->port, m->v[j].vm->meta.name, m->v[j].iface->name);
                                return;
                        }
                }
}

static void desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d) {
        (void) self;
        pf_masq *m = k->masq;
        if (!m || !m->n)
                return;
        const pf_loc first = m->v[0].iface->loc;
        if (!k->nft)
                pf_error(d, first, "podform could not create an nftables context (libnftables), where it forwards the "
                         "masquerade interfaces' ports");
        else if (pf_nft_unreadable(k->nft))
                pf_error(d, first, "%s: podform forwards the masquerade interfaces' ports in that table, and needs "
                         "to read it (as root, with nf_tables in the kernel)", pf_nft_unreadable(k->nft));
        for (size_t i = 0; i < k->model->networks.n; i++)
                if (!strcmp(k->model->networks.v[i].meta.name, PF_MASQ_NETWORK))
                        pf_error(d, k->model->networks.v[i].meta.name_loc, "the network name " PF_MASQ_NETWORK " is "
                                 "podform's own NAT network for the masquerade binding on this host; rename this Network");
        char gw[64];
        pf_ip gateway = pf_masq_gateway(&k->host->vm_network_cidr);
        live_ctx lc = { pf_objset_find(have, PF_R_NETWORK, PF_MASQ_NETWORK), pf_ip_format(&gateway, gw), &want->arena };
        pf_dhcp_host *kept;
        size_t n_kept = kept_hosts(k, have, lc.net, gw, &want->arena, &kept);
        pf_ip *kept_ips = pf_arena_array(&want->arena, n_kept, sizeof(*kept_ips));
        for (size_t i = 0; i < n_kept; i++)
                kept_ips[i] = kept[i].ip;
        pf_masq_assign(m, &k->host->vm_network_cidr, live_ip, &lc, kept_ips, n_kept, d);
        desire_network(k, have, want, kept, n_kept, d);

        const char *except = range_except(&want->arena, &k->host->vm_network_cidr);
        pf_fields fb;
        pf_fields_init(&fb, &want->arena);
        for (size_t i = 0; i < m->n;) {         /* sorted by VM (pf_masq_assign) */
                const pf_vm *vm = m->v[i].vm;
                size_t j = i;
                for (; j < m->n && m->v[j].vm == vm; j++) {
                        char ip[64];
                        const pf_iface *f = m->v[j].iface;
                        pf_ip_format(&m->v[j].ip, ip);
                        pf_field_add(&fb, PF_LAND_LIVE, 0, masq_value(&want->arena, ip, except), "masquerade[%s]", f->name);
                        for (size_t p = 0; p < f->ports.n; p++) {
                                const pf_port *port = &f->ports.v[p];
                                const char *proto = port->protocol == PF_PROTO_UDP ? "udp" : "tcp";
                                const char *to = pf_arena_printf(&want->arena, "%s:%u", ip, port->port);
                                check_port_taken(m, j, p, d);
                                pf_field_add(&fb, PF_LAND_LIVE, 0, to, "port[%s].%s/%u", f->name, proto, port->port);
                                pf_field_add(&fb, PF_LAND_LIVE, 0, to, "port[%s].%s/%u.local", f->name, proto, port->port);
                        }
                }
                pf_need_add(&fb, PF_R_DOMAIN, vm->meta.name);
                pf_need_add(&fb, PF_R_NETWORK, PF_MASQ_NETWORK);
                pf_obj *o = pf_objset_add(want, PF_R_NAT, vm->meta.name);
                o->active = true;
                o->loc = vm->meta.name_loc;
                pf_fields_finish(&fb, o);
                i = j;
        }
        pf_fields_free(&fb);
}

/* ---- apply ---- */

/* The rules of one field of the desired object ("masquerade[IFACE]", "port[IFACE].tcp/80"). */
static void add_field_rule(pf_nft_batch *b, pf_arena *a, const char *vm, const pf_field *f, const pf_cidr *range) {
        const char *open = strchr(f->key, '['), *close = open ? strchr(open, ']') : NULL;
        if (!close)
                return;
        const char *iface = pf_arena_strndup(a, open + 1, (size_t) (close - open - 1));
        const char *comment = pf_arena_printf(a, "%s/%s", vm, iface);
        pf_ip ip;
        const char *addr = pf_arena_strndup(a, f->value, strcspn(f->value, " :"));
        if (pf_parse_ip(addr, &ip))
                return;
        if (!strncmp(f->key, "masquerade[", 11)) {
                pf_nft_add_masquerade(b, comment, &ip, range);
                return;
        }
        char proto[8];
        unsigned port = 0;
        int used = 0;
        if (sscanf(close, "].%7[a-z]/%u%n", proto, &port, &used) != 2)
                return;
        bool local = !strcmp(close + used, ".local");
        pf_nft_add_dnat(b, local ? "output" : "prerouting", comment, !strcmp(proto, "udp") ? PF_PROTO_UDP : PF_PROTO_TCP,
                        port, &ip);
}

/* Whether any rule of the table is left once this batch ran, but those of `vm`. */
static bool others_left(const pf_nft *n, pf_arena *a, const char *vm) {
        for (size_t i = 0; i < pf_nft_n_rules(n); i++) {
                const char *iface;
                if (!pf_nft_rule_gone(n, i) && strcmp(comment_vm(a, pf_nft_rule_at(n, i)->comment, &iface), vm))
                        return true;
        }
        return false;
}

static int apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        (void) self;
        if (!k->nft) {
                *err = pf_xasprintf("nat %s: no nftables context", a->name);
                return -1;
        }
        pf_arena t = { 0 };
        pf_nft_batch b;
        pf_nft_batch_init(&b);
        /* what it had goes, what it should have comes, in one transaction */
        for (size_t i = 0; i < pf_nft_n_rules(k->nft); i++) {
                const char *iface;
                if (!pf_nft_rule_gone(k->nft, i) && !strcmp(comment_vm(&t, pf_nft_rule_at(k->nft, i)->comment, &iface), a->name))
                        pf_nft_delete_rule(&b, k->nft, i);
        }
        if (a->op == PF_OP_DELETE) {
                if (pf_nft_table_exists(k->nft) && !others_left(k->nft, &t, a->name))
                        pf_nft_delete_table(&b);
        } else {
                pf_nft_add_base(&b);
                for (size_t i = 0; i < a->want->fields.n; i++)
                        add_field_rule(&b, &t, a->name, &a->want->fields.v[i], &k->host->vm_network_cidr);
        }
        int r = pf_nft_run(k->nft, &b, err);
        if (r < 0) {
                char *e = pf_xasprintf("nat %s: %s", a->name, *err);
                free(*err);
                *err = e;
        }
        pf_nft_batch_free(&b);
        pf_arena_free(&t);
        return r;
}

/* ---- show ---- */

/* Rules are no document: the VM's masquerade interface makes them. */
static void show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live,
                 pf_yaml_out *y) {
        (void) self, (void) k, (void) have;
        pf_yaml_aside(y, "nftables table ip %s: %s's NAT rules, which podform makes from the VM's masquerade interface",
                      PF_NFT_TABLE, live->name);
}

const pf_kind_ops pf_nat_kind = {
        .rkind = PF_R_NAT, .model_kind = PF_KIND_VIRTUAL_MACHINE, .order = PF_ORDER_NEEDS_GUEST,
        .observe = observe, .desire = desire, .apply = apply, .show = show,
};
