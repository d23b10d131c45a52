/* validate.c: rules across fields and resources (spec sections 1-2); a VM's rules are in
 * validate_vm.c. Each check reports at the place the user has to edit, and names the other
 * place. */
#include "config.h"
#include "config/validate.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/checks.h"
#include "config/load.h"
#include "config/values.h"
#include "model/names.h"
#include "util/xalloc.h"

/* ---- names unique among resources that can meet on one host ---- */

typedef struct named {
        const char *name;
        const pf_meta *meta;
        const char *kind;
} named;

static int named_cmp(const void *a, const void *b) {
        const named *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r ? r : loc_cmp(x->meta->name_loc, y->meta->name_loc);
}

static void check_unique(pf_diags *diags, named *v, size_t n, const char *what) {
        qsort(v, n, sizeof(*v), named_cmp);
        for (size_t i = 0; i < n;) {
                size_t j = i + 1;
                while (j < n && strcmp(v[j].name, v[i].name) == 0)
                        j++;
                for (size_t b = i + 1; b < j; b++)
                        for (size_t a = i; a < b; a++)
                                if (pf_meta_compatible(v[a].meta, v[b].meta)) {
                                        char qb[PF_QUOTE_MAX], w[512];
                                        pf_error(diags, v[b].meta->name_loc, "duplicate %s name %s: %s %s is already defined at %s",
                                                 what, q(qb, v[b].name), v[a].kind, q(qb, v[a].name),
                                                 where(v[a].meta->name_loc, w, sizeof(w)));
                                        break;
                                }
                i = j;
        }
}

#define COLLECT(arr, n, list, kindname)                                   \
        EACH(r, list) if (r->meta.name) arr[n++] = (named) { r->meta.name, &r->meta, kindname }

static void check_names(pf_diags *diags, const pf_model *m) {
        size_t total = m->hosts.n + m->subnets.n + m->bridges.n + m->macvtaps.n + m->macvlans.n +
                       m->networks.n + m->pools.n + m->vms.n + m->vxlans.n;
        named *v = pf_xcalloc(total, sizeof(*v));
        size_t n = 0;
        COLLECT(v, n, m->hosts, "Host");
        check_unique(diags, v, n, "Host");
        n = 0;
        COLLECT(v, n, m->subnets, "Subnet");
        check_unique(diags, v, n, "Subnet");
        /* Bridges, macvtaps, macvlans and vxlans are all kernel links: one namespace. */
        n = 0;
        COLLECT(v, n, m->bridges, "Bridge");
        COLLECT(v, n, m->macvtaps, "Macvtap");
        COLLECT(v, n, m->macvlans, "Macvlan");
        COLLECT(v, n, m->vxlans, "Vxlan");
        check_unique(diags, v, n, "link");
        n = 0;
        COLLECT(v, n, m->networks, "Network");
        check_unique(diags, v, n, "Network");
        n = 0;
        COLLECT(v, n, m->pools, "StoragePool");
        check_unique(diags, v, n, "StoragePool");
        n = 0;
        COLLECT(v, n, m->vms, "VirtualMachine");
        check_unique(diags, v, n, "VirtualMachine");
        free(v);
}

/* ---- Host ---- */

static void check_host(pf_diags *diags, const pf_host *h) {
        char a[PF_QUOTE_MAX], b[PF_QUOTE_MAX];
        if (h->meta.host && h->meta.name && strcmp(h->meta.host, h->meta.name) != 0)
                pf_error(diags, h->meta.host_loc, "a Host applies to the host it names: metadata.host %s must equal metadata.name %s or be left out",
                         q(a, h->meta.host), q(b, h->meta.name));
        /* podform's NAT network: a gateway, at least one guest, a broadcast address */
        char c[64];
        if (pf_loc_set(h->vm_network_cidr_loc) && h->vm_network_cidr.ip.family != AF_INET)
                pf_error(diags, h->vm_network_cidr_loc, "vmNetworkCIDR %s: podform's NAT network for the masquerade "
                         "binding is IPv4 only; give an IPv4 network such as 10.0.2.0/24",
                         pf_cidr_format(&h->vm_network_cidr, c));
        else if (pf_loc_set(h->vm_network_cidr_loc) && h->vm_network_cidr.prefix > 29)
                pf_error(diags, h->vm_network_cidr_loc, "vmNetworkCIDR %s holds too few addresses for a gateway and "
                         "guests; give a prefix of /29 or shorter (KubeVirt's default is 10.0.2.0/24)",
                         pf_cidr_format(&h->vm_network_cidr, c));
}

/* ---- Subnet ---- */

static void check_in_cidr(pf_diags *diags, const pf_ip *ip, pf_loc loc, const pf_cidr *c, const char *what) {
        if (pf_ip_in_cidr(ip, c))
                return;
        char x[64], y[64];
        pf_error(diags, loc, "%s %s is outside the subnet %s", what, pf_ip_format(ip, x), pf_cidr_format(c, y));
}

static void check_subnet(pf_diags *diags, const pf_subnet *s) {
        if (!pf_loc_set(s->cidr_loc))
                return;
        if (pf_loc_set(s->gateway_loc))
                check_in_cidr(diags, &s->gateway, s->gateway_loc, &s->cidr, "gateway");
        EACH(r, s->reserved) {
                check_in_cidr(diags, &r->start, r->loc, &s->cidr, "reserved address");
                if (pf_ip_cmp(&r->start, &r->end) != 0 && pf_ip_in_cidr(&r->start, &s->cidr))
                        check_in_cidr(diags, &r->end, r->loc, &s->cidr, "reserved range end");
        }
        for (size_t i = 1; i < s->reserved.n; i++) {
                const pf_ip_range *a = &s->reserved.v[i - 1], *b = &s->reserved.v[i];
                if (pf_ip_cmp(&b->start, &a->end) <= 0 && b->start.family == a->end.family) {
                        char x[64];
                        pf_error(diags, b->loc, "reserved entries must be in ascending order without overlap; this one starts at %s, not after the previous one",
                                 pf_ip_format(&b->start, x));
                }
        }
}

/* ---- links ---- */

static void check_unique_names(pf_diags *diags, const pf_name_list *l, const char *what) {
        for (size_t i = 0; i < l->n; i++)
                for (size_t j = 0; j < i; j++)
                        if (l->v[i].name && l->v[j].name && strcmp(l->v[i].name, l->v[j].name) == 0) {
                                char a[PF_QUOTE_MAX];
                                pf_error(diags, l->v[i].loc, "%s %s is listed twice (first at line %u)", what,
                                         q(a, l->v[i].name), l->v[j].loc.line);
                                break;
                        }
}

/* Host addresses of a link: what the kernel keeps as a permanent, global address, once each. */
static void check_link_addresses(pf_diags *diags, const pf_cidr_item *v, size_t n) {
        char a[64], w[512];
        for (size_t i = 0; i < n; i++) {
                const pf_cidr_item *c = &v[i];
                const uint8_t *b = c->cidr.ip.addr;
                const char *what = NULL;
                if (c->cidr.ip.family == AF_INET6) {
                        static const uint8_t zero[16];
                        if (b[0] == 0xff)
                                what = "a multicast address";
                        else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
                                what = "link-local (the kernel makes its own fe80:: address on every link)";
                        else if (!memcmp(b, zero, 15) && b[15] <= 1)
                                what = b[15] ? "the loopback address" : "the unspecified address";
                } else {
                        if (b[0] >= 224 && b[0] <= 239)
                                what = "a multicast address";
                        else if (b[0] == 127)
                                what = "a loopback address";
                        else if (!b[0] && !b[1] && !b[2] && !b[3])
                                what = "the unspecified address";
                }
                if (what)
                        pf_error(diags, c->loc, "%s is %s, not a host address a link can carry", pf_ip_format(&c->cidr.ip, a), what);
                /* the kernel keys an address by itself: the same one twice (whatever the prefix) is
                 * refused the second time, and a plan would never match */
                for (size_t k = 0; k < i; k++)
                        if (!pf_ip_cmp(&v[k].cidr.ip, &c->cidr.ip)) {
                                pf_error(diags, c->loc, "address %s is already given at %s; a link carries an address once",
                                         pf_ip_format(&c->cidr.ip, a), where(v[k].loc, w, sizeof(w)));
                                break;
                        }
        }
}

static void check_bridge(pf_diags *diags, const pf_bridge *b) {
        check_unique_names(diags, &b->ports, "port");
        check_link_addresses(diags, b->addresses.v, b->addresses.n);
        EACH(p, b->ports)
                if (b->meta.name && p->name && strcmp(p->name, b->meta.name) == 0) {
                        char a[PF_QUOTE_MAX];
                        pf_error(diags, p->loc, "bridge %s cannot be a port of itself", q(a, p->name));
                }
        /* the kernel refuses a delay below 2 s while STP runs (and a bridge without STP
         * forwards at once, which is why podform's default is 0 then, 15 with STP) */
        if (pf_loc_set(b->forward_delay_loc) && b->stp && b->forward_delay < 2)
                pf_error(diags, b->forward_delay_loc, "with stp: true the kernel needs forwardDelay from 2 to 30 seconds; "
                         "set it to 2 or more, or leave it out for the kernel's 15");
}

static void check_macvlan(pf_diags *diags, const pf_macvlan *m) {
        char a[PF_QUOTE_MAX];
        if (m->kind == PF_KIND_MACVTAP && pf_loc_set(m->addresses_loc))
                pf_error(diags, m->addresses_loc, "\"addresses\" is only allowed on a Macvlan: a Macvtap belongs to a VM, which configures its own addresses");
        if (m->parent && m->meta.name && strcmp(m->parent, m->meta.name) == 0)
                pf_error(diags, m->parent_loc, "%s %s cannot be its own parent", pf_kind_enum.names[m->kind], q(a, m->parent));
        check_link_addresses(diags, m->addresses.v, m->addresses.n);
}

static bool ip_is_multicast(const pf_ip *ip) {
        return ip->family == AF_INET6 ? ip->addr[0] == 0xff : ip->addr[0] >= 224 && ip->addr[0] <= 239;
}

/* A tunnel sends to one peer (remote) or one multicast group, from an underlay the kernel can
 * find: a device (parent) or a source address (local). */
static void check_vxlan_endpoints(pf_diags *diags, const pf_vxlan *v) {
        char a[PF_QUOTE_MAX], x[64], y[64], w[512];
        bool remote = pf_loc_set(v->remote_loc), group = pf_loc_set(v->group_loc);
        const char *name = v->meta.name ? v->meta.name : "?";
        if (remote && group)
                pf_error(diags, v->group_loc, "Vxlan %s gives both \"remote\" (at %s) and \"group\"; keep remote for one peer "
                         "or group for a multicast group", q(a, name), where(v->remote_loc, w, sizeof(w)));
        else if (!remote && !group)
                pf_error(diags, v->meta.loc, "Vxlan %s needs \"remote\" (the peer's address) or \"group\" (a multicast "
                         "group) to send to; add one of them", q(a, name));
        if (!pf_loc_set(v->parent_loc) && !pf_loc_set(v->local_loc))
                pf_error(diags, v->meta.loc, "Vxlan %s needs \"parent\" (the underlay device) or \"local\" (this host's "
                         "address on the underlay); add at least one of them", q(a, name));
        if (remote && ip_is_multicast(&v->remote))
                pf_error(diags, v->remote_loc, "remote %s is a multicast address; write it as group: to send to a multicast group",
                         pf_ip_format(&v->remote, x));
        if (group && !ip_is_multicast(&v->group))
                pf_error(diags, v->group_loc, "group %s is not a multicast address (224.0.0.0/4 or ff00::/8); "
                         "write a single peer as remote:", pf_ip_format(&v->group, x));
        else if (group && !pf_loc_set(v->parent_loc))
                pf_error(diags, v->group_loc, "group needs \"parent\": the kernel joins the multicast group %s on that device; "
                         "add parent: (the underlay device)", pf_ip_format(&v->group, x));
        if (pf_loc_set(v->local_loc) && ip_is_multicast(&v->local))
                pf_error(diags, v->local_loc, "local %s is a multicast address; give this host's own address on the underlay",
                         pf_ip_format(&v->local, x));
        const pf_ip *peer = remote ? &v->remote : group ? &v->group : NULL;
        if (pf_loc_set(v->local_loc) && peer && peer->family != v->local.family)
                pf_error(diags, v->local_loc, "local %s and %s %s are of different families; a tunnel runs over IPv4 or "
                         "IPv6: give both of one family", pf_ip_format(&v->local, x), remote ? "remote" : "group",
                         pf_ip_format(peer, y));
}

static void check_vxlan(pf_diags *diags, const pf_vxlan *v) {
        char a[PF_QUOTE_MAX];
        check_vxlan_endpoints(diags, v);
        if (v->parent && v->meta.name && strcmp(v->parent, v->meta.name) == 0)
                pf_error(diags, v->parent_loc, "Vxlan %s cannot be its own parent; name the underlay device", q(a, v->parent));
        check_link_addresses(diags, v->addresses.v, v->addresses.n);
}

/* ---- Network ---- */

/* The network's addresses and what its DHCP server hands out inside each. */
static void check_network_ips(pf_diags *diags, const pf_network *n) {
        char x[64], y[64];
        int dhcp4 = 0, dhcp6 = 0;
        EACH(ip, n->ips) {
                if (!pf_loc_set(ip->address_loc) || !pf_loc_set(ip->prefix_loc))
                        continue;
                unsigned max = ip->address.family == AF_INET ? 32 : 128;
                if (ip->prefix > max) {
                        pf_error(diags, ip->prefix_loc, "prefix %u is longer than %u, the length of an %s address", ip->prefix, max,
                                 max == 32 ? "IPv4" : "IPv6");
                        continue;
                }
                pf_cidr net = { ip->address, (uint8_t) ip->prefix };
                net = pf_cidr_network(&net);
                if (pf_loc_set(ip->dhcp_loc)) {
                        int *count = ip->address.family == AF_INET ? &dhcp4 : &dhcp6;
                        if (++*count == 2)
                                pf_error(diags, ip->dhcp_loc, "only one %s address of a network may have dhcp (a libvirt limit)",
                                         ip->address.family == AF_INET ? "IPv4" : "IPv6");
                }
                EACH(r, ip->dhcp_ranges) {
                        if (!pf_loc_set(r->start_loc) || !pf_loc_set(r->end_loc))
                                continue;
                        check_in_cidr(diags, &r->start, r->start_loc, &net, "DHCP range start");
                        check_in_cidr(diags, &r->end, r->end_loc, &net, "DHCP range end");
                        if (r->start.family == r->end.family && pf_ip_cmp(&r->start, &r->end) > 0)
                                pf_error(diags, r->end_loc, "DHCP range ends at %s, before its start %s",
                                         pf_ip_format(&r->end, x), pf_ip_format(&r->start, y));
                        if (pf_ip_cmp(&r->start, &ip->address) <= 0 && pf_ip_cmp(&ip->address, &r->end) <= 0)
                                pf_error(diags, r->loc, "DHCP range includes the network's own address %s", pf_ip_format(&ip->address, x));
                }
                for (size_t i = 1; i < ip->dhcp_ranges.n; i++) {
                        const pf_ip_range *p = &ip->dhcp_ranges.v[i - 1], *r = &ip->dhcp_ranges.v[i];
                        if (p->end.family == r->start.family && pf_ip_cmp(&r->start, &p->end) <= 0)
                                pf_error(diags, r->loc, "DHCP ranges must be in ascending order without overlap");
                }
                for (size_t i = 0; i < ip->dhcp_hosts.n; i++) {
                        const pf_dhcp_host *h = &ip->dhcp_hosts.v[i];
                        if (pf_loc_set(h->ip_loc))
                                check_in_cidr(diags, &h->ip, h->ip_loc, &net, "DHCP host address");
                        for (size_t j = 0; j < i; j++) {
                                const pf_dhcp_host *o = &ip->dhcp_hosts.v[j];
                                if (pf_loc_set(h->mac_loc) && pf_loc_set(o->mac_loc) && !memcmp(&h->mac, &o->mac, sizeof(h->mac)))
                                        pf_error(diags, h->mac_loc, "DHCP host MAC %s is already listed at line %u",
                                                 pf_mac_format(&h->mac, x), o->mac_loc.line);
                                if (pf_loc_set(h->ip_loc) && pf_loc_set(o->ip_loc) && !pf_ip_cmp(&h->ip, &o->ip))
                                        pf_error(diags, h->ip_loc, "DHCP host address %s is already given to the host at line %u",
                                                 pf_ip_format(&h->ip, x), o->ip_loc.line);
                        }
                }
                if (pf_loc_set(ip->bootp_loc) && ip->address.family != AF_INET)
                        pf_error(diags, ip->bootp_loc, "bootp is IPv4 only");
        }
}

static void check_network(pf_diags *diags, const pf_network *n) {
        const char *fwd = pf_forward_enum.names[n->forward];
        bool direct = n->forward == PF_FORWARD_PRIVATE || n->forward == PF_FORWARD_VEPA ||
                      n->forward == PF_FORWARD_PASSTHROUGH;
        pf_loc at = pf_loc_set(n->forward_loc) ? n->forward_loc : n->meta.loc;
        if (direct && n->interfaces.n == 0)
                pf_error(diags, at, "forward: %s needs \"interfaces\": the host devices the VMs' macvtaps sit on", fwd);
        if (direct && pf_loc_set(n->bridge_name_loc))
                pf_error(diags, n->bridge_name_loc, "forward: %s uses macvtap devices, not a bridge; remove bridge.name", fwd);
        if (n->forward == PF_FORWARD_BRIDGE) {
                if (!pf_loc_set(n->bridge_name_loc) && n->interfaces.n == 0)
                        pf_error(diags, at, "forward: bridge needs bridge.name (an existing host bridge) or \"interfaces\" (macvtap in bridge mode)");
                if (pf_loc_set(n->bridge_name_loc) && n->interfaces.n)
                        pf_error(diags, n->interfaces_loc, "forward: bridge takes either bridge.name or \"interfaces\", not both");
                if (pf_loc_set(n->bridge_stp_loc) || pf_loc_set(n->bridge_delay_loc))
                        pf_error(diags, pf_loc_set(n->bridge_stp_loc) ? n->bridge_stp_loc : n->bridge_delay_loc,
                                 "bridge.stp and bridge.forwardDelay apply to bridges libvirt creates, not to the existing bridge of forward: bridge");
        }
        if (pf_forward_own_bridge(n->forward) && n->interfaces.n && n->forward != PF_FORWARD_NAT && n->forward != PF_FORWARD_ROUTE)
                pf_error(diags, n->interfaces_loc, "forward: %s takes no \"interfaces\"", fwd);
        if (n->forward == PF_FORWARD_NAT || n->forward == PF_FORWARD_ROUTE) {
                if (n->interfaces.n > 1)
                        pf_error(diags, n->interfaces.v[1].loc, "forward: %s routes through at most one interface", fwd);
        }
        if (!pf_forward_own_bridge(n->forward) && pf_loc_set(n->ips_loc))
                pf_error(diags, n->ips_loc, "forward: %s networks have no \"ips\": libvirt does not manage addresses on them", fwd);
        if (!pf_forward_own_bridge(n->forward) && pf_loc_set(n->domain_loc))
                pf_error(diags, n->domain_loc, "forward: %s networks have no \"domain\": libvirt runs no DNS on them", fwd);
        if (pf_loc_set(n->nat_loc) && n->forward != PF_FORWARD_NAT)
                pf_error(diags, n->nat_loc, "\"nat\" is only allowed with forward: nat, not %s", fwd);
        if (pf_loc_set(n->nat_port_end_loc) && pf_loc_set(n->nat_port_start_loc) && n->nat_port_start > n->nat_port_end)
                pf_error(diags, n->nat_port_end_loc, "nat port range ends at %u, before its start %u", n->nat_port_end, n->nat_port_start);
        check_network_ips(diags, n);
}

/* Bridges that libvirt creates for nat/route/open/none must not collide with each other or
 * with a Bridge, Macvtap, Macvlan or Vxlan podform manages. */
static void check_network_bridges(pf_diags *diags, const pf_model *m) {
        char a[PF_QUOTE_MAX], b[PF_QUOTE_MAX], w[512];
        for (size_t j = 0; j < m->networks.n; j++) {
                const pf_network *n = &m->networks.v[j];
                if (!n->bridge_name)
                        continue;
                for (size_t i = 0; i < j; i++) {
                        const pf_network *o = &m->networks.v[i];
                        if (o->bridge_name && !strcmp(o->bridge_name, n->bridge_name) &&
                            (pf_forward_own_bridge(o->forward) || pf_forward_own_bridge(n->forward)) &&
                            pf_meta_compatible(&n->meta, &o->meta)) {
                                pf_error(diags, n->bridge_name_loc,
                                         "bridge %s is already used by Network %s at %s; a bridge libvirt creates belongs to one network",
                                         q(a, n->bridge_name), q(b, o->meta.name ? o->meta.name : "?"),
                                         where(o->bridge_name_loc, w, sizeof(w)));
                                break;
                        }
                }
                if (!pf_forward_own_bridge(n->forward))
                        continue;
                const pf_meta *link = NULL;
                EACH(r, m->bridges) if (r->meta.name && !strcmp(r->meta.name, n->bridge_name) && pf_meta_compatible(&r->meta, &n->meta)) link = &r->meta;
                EACH(r, m->macvtaps) if (r->meta.name && !strcmp(r->meta.name, n->bridge_name) && pf_meta_compatible(&r->meta, &n->meta)) link = &r->meta;
                EACH(r, m->macvlans) if (r->meta.name && !strcmp(r->meta.name, n->bridge_name) && pf_meta_compatible(&r->meta, &n->meta)) link = &r->meta;
                EACH(r, m->vxlans) if (r->meta.name && !strcmp(r->meta.name, n->bridge_name) && pf_meta_compatible(&r->meta, &n->meta)) link = &r->meta;
                if (link)
                        pf_error(diags, n->bridge_name_loc,
                                 "bridge %s would be created by libvirt for forward: %s, but a link of that name is declared at %s; use forward: bridge to attach to it",
                                 q(a, n->bridge_name), pf_forward_enum.names[n->forward], where(link->name_loc, w, sizeof(w)));
        }
}

static void check_pools(pf_diags *diags, const pf_model *m) {
        char a[PF_QUOTE_MAX], b[PF_QUOTE_MAX], w[512];
        for (size_t i = 0; i < m->pools.n; i++)
                for (size_t j = 0; j < i; j++) {
                        const pf_pool *p = &m->pools.v[i], *o = &m->pools.v[j];
                        if (p->path && o->path && !strcmp(p->path, o->path) && pf_meta_compatible(&p->meta, &o->meta)) {
                                pf_error(diags, p->path_loc, "path %s is already the path of StoragePool %s at %s", q(a, p->path),
                                         q(b, o->meta.name ? o->meta.name : "?"), where(o->path_loc, w, sizeof(w)));
                                break;
                        }
                }
}

void pf_validate(pf_config *c) {
        pf_diags *diags = &c->diags;
        const pf_model *m = &c->model;
        check_names(diags, m);
        /* A resource whose document had errors is only checked against others (names, MACs,
         * references): its own cross-field checks would judge values that failed to load. */
        EACH(h, m->hosts) if (!h->meta.load_failed) check_host(diags, h);
        EACH(s, m->subnets) if (!s->meta.load_failed) check_subnet(diags, s);
        EACH(b, m->bridges) if (!b->meta.load_failed) check_bridge(diags, b);
        EACH(t, m->macvtaps) if (!t->meta.load_failed) check_macvlan(diags, t);
        EACH(t, m->macvlans) if (!t->meta.load_failed) check_macvlan(diags, t);
        EACH(x, m->vxlans) if (!x->meta.load_failed) check_vxlan(diags, x);
        EACH(n, m->networks) if (!n->meta.load_failed) check_network(diags, n);
        check_network_bridges(diags, m);
        check_pools(diags, m);
        EACH(vm, m->vms) if (!vm->meta.load_failed) pf_check_vm(diags, m, vm);
        pf_check_vm_refs(diags, m);
}
