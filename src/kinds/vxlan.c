/* vxlan.c: the Vxlan kind. Its id, port, underlay and peers are fixed when the kernel creates
 * it (changing them recreates the link); learning, like the common fields, changes in place. The
 * underlay device travels in IFLA_VXLAN_LINK, not IFLA_LINK, so this kind reads its parent back
 * itself. */
#include "config.h"
#include "kinds/vxlan.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>

#include "config/values.h"
#include "kinds/link.h"

enum {
        F_ID = PF_LF_KIND << 0, F_PEER = PF_LF_KIND << 1, F_LOCAL = PF_LF_KIND << 2, F_PORT = PF_LF_KIND << 3,
        F_LEARNING = PF_LF_KIND << 4,
};

static const pf_vxlan *res(const pf_link_decl *x) { return x->res; }
static size_t count(const pf_model *m) { return m->vxlans.n; }
static const pf_meta *meta_at(const pf_model *m, size_t i) { return &m->vxlans.v[i].meta; }

static void decl_at(const pf_kind_ctx *k, size_t i, pf_link_decl *x) {
        const pf_vxlan *v = &k->model->vxlans.v[i];
        *x = (pf_link_decl) { .kind = &pf_vxlan_kind, .meta = &v->meta, .res = v, .parent = v->parent,
                              .parent_loc = v->parent_loc, .mtu = v->mtu, .state = v->state,
                              .addrs = v->addresses.v, .n_addrs = v->addresses.n };
        if (pf_loc_set(v->mac_address_loc))
                x->mac = &v->mac_address;
}

static unsigned mask(const pf_kind_ctx *k, const pf_link_decl *x, bool adopted) {
        (void) k;
        const pf_vxlan *v = res(x);
        unsigned m = PF_LF_TYPE | PF_LF_PARENT | F_ID | F_PEER | F_LOCAL;
        if (!adopted || pf_loc_set(v->dstport_loc)) m |= F_PORT;
        if (!adopted || pf_loc_set(v->learning_loc)) m |= F_LEARNING;
        if (!adopted || pf_loc_set(v->state_loc)) m |= PF_LF_STATE;
        if (!adopted || pf_loc_set(v->addresses_loc)) m |= PF_LF_ADDRS;
        if (pf_loc_set(v->mtu_loc)) m |= PF_LF_MTU;
        if (x->mac) m |= PF_LF_MAC;
        return m;
}

/* The tunnel as podform compares it; a peer is "remote" (unicast) or "group" (multicast). */
typedef struct tunnel {
        unsigned id, port;
        bool has_id, learning;
        const char *peer_key, *peer, *local;
} tunnel;

static void own_fields(const tunnel *t, unsigned mask, pf_fields *b) {
        char buf[16];
        if ((mask & F_ID) && t->has_id) {
                snprintf(buf, sizeof(buf), "%u", t->id);
                pf_field_add(b, PF_LAND_RECREATE, 0, buf, "id");
        }
        if ((mask & F_PEER) && t->peer)
                pf_field_add(b, PF_LAND_RECREATE, 0, t->peer, "%s", t->peer_key);
        if ((mask & F_LOCAL) && t->local)
                pf_field_add(b, PF_LAND_RECREATE, 0, t->local, "local");
        if (mask & F_PORT) {
                snprintf(buf, sizeof(buf), "%u", t->port);
                pf_field_add(b, PF_LAND_RECREATE, 0, buf, "dstport");
        }
        if (mask & F_LEARNING)
                pf_field_add(b, PF_LAND_LIVE, 0, t->learning ? "true" : "false", "learning");
}

static bool is_multicast(const pf_ip *ip) {
        return ip->family == AF_INET ? (ip->addr[0] & 0xf0) == 0xe0 : ip->addr[0] == 0xff;
}

static const char *ip_text(pf_arena *a, const pf_ip *ip) {
        char buf[INET6_ADDRSTRLEN];
        return ip->family ? pf_arena_strdup(a, inet_ntop(ip->family, ip->addr, buf, sizeof(buf))) : NULL;
}

static void decl_fields(const pf_kind_ctx *k, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        (void) k;
        const pf_vxlan *v = res(x);
        bool group = v->group.family != 0;
        tunnel t = { .id = v->id, .has_id = true, .port = v->dstport, .learning = v->learning,
                     .peer_key = group ? "group" : "remote", .peer = ip_text(b->arena, group ? &v->group : &v->remote),
                     .local = ip_text(b->arena, &v->local) };
        own_fields(&t, mask, b);
}

/* An address attribute (4 or 16 bytes) as a pf_ip; family 0 when absent or empty. */
static pf_ip attr_ip(const struct nlattr *a4, const struct nlattr *a6) {
        pf_ip ip = { 0 };
        if (a4 && nla_len(a4) == 4 && nla_get_u32(a4) != 0) {
                ip.family = AF_INET;
                memcpy(ip.addr, nla_data(a4), 4);
        } else if (a6 && nla_len(a6) == 16) {
                static const uint8_t any[16];
                if (memcmp(nla_data(a6), any, 16) != 0) {
                        ip.family = AF_INET6;
                        memcpy(ip.addr, nla_data(a6), 16);
                }
        }
        return ip;
}

static void live_fields(const pf_kind_ctx *k, const pf_nl_link *l, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        (void) k;
        (void) x;
        struct nlattr *tb[IFLA_VXLAN_MAX + 1] = { 0 };
        tunnel t = { .peer_key = "remote" };
        if (!strcmp(l->kind, "vxlan") && pf_nl_info_data(l, tb, IFLA_VXLAN_MAX)) {
                t.has_id = tb[IFLA_VXLAN_ID] != NULL;
                t.id = t.has_id ? nla_get_u32(tb[IFLA_VXLAN_ID]) : 0;
                t.port = tb[IFLA_VXLAN_PORT] ? ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT])) : 0;
                t.learning = tb[IFLA_VXLAN_LEARNING] && nla_get_u8(tb[IFLA_VXLAN_LEARNING]);
                pf_ip peer = attr_ip(tb[IFLA_VXLAN_GROUP], tb[IFLA_VXLAN_GROUP6]);
                pf_ip local = attr_ip(tb[IFLA_VXLAN_LOCAL], tb[IFLA_VXLAN_LOCAL6]);
                t.peer_key = peer.family && is_multicast(&peer) ? "group" : "remote";
                t.peer = ip_text(b->arena, &peer);
                t.local = ip_text(b->arena, &local);
        }
        own_fields(&t, mask, b);
}

static const char *live_parent(const pf_kind_ctx *k, const pf_nl_link *l) {
        struct nlattr *tb[IFLA_VXLAN_MAX + 1] = { 0 };
        if (strcmp(l->kind, "vxlan") != 0 || !pf_nl_info_data(l, tb, IFLA_VXLAN_MAX) || !tb[IFLA_VXLAN_LINK])
                return NULL;
        int ifindex = (int) nla_get_u32(tb[IFLA_VXLAN_LINK]);
        const pf_nl_link *p = ifindex ? pf_nl_link_by_index(k->nl, ifindex) : NULL;
        return !ifindex ? NULL : p ? p->name : PF_NL_PARENT_ELSEWHERE;
}

/* Vxlans are created before Bridges, so that a Bridge can take one as a port: its underlay
 * cannot be a Bridge podform is still to create. */
static void check(const pf_kind_ctx *k, const pf_link_decl *x, pf_diags *d) {
        if (!x->parent)
                return;
        pf_link_check_exists(k, d, x->parent_loc, "parent", x->parent, "create it, declare it, or fix the name");
        const char *kind = pf_links_kind(k, x->parent);
        if (kind && !strcmp(kind, "vxlan"))
                pf_error(d, x->parent_loc, "parent '%s' is a vxlan; a VXLAN's underlay is the device its packets "
                         "leave by (a NIC, a bridge, a VLAN): name that one, or give local: ADDRESS", x->parent);
        else if (kind && !pf_nl_link_by_name(k->nl, x->parent))
                pf_error(d, x->parent_loc, "parent '%s' is declared but not on this host yet, and Vxlans are created "
                         "before the other links (so that a Bridge can take one as a port); apply once without this "
                         "Vxlan, or use local: ADDRESS instead of parent", x->parent);
}

static void put_ip(struct nl_msg *msg, int attr4, int attr6, const pf_ip *ip) {
        if (ip->family == AF_INET)
                pf_nl_put_ok(nla_put(msg, attr4, 4, ip->addr));
        else if (ip->family == AF_INET6)
                pf_nl_put_ok(nla_put(msg, attr6, 16, ip->addr));
}

static void put_data(const pf_kind_ctx *k, struct nl_msg *msg, const pf_link_decl *x, unsigned mask, int parent) {
        (void) k;
        const pf_vxlan *v = res(x);
        if (mask & F_ID)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_VXLAN_ID, v->id));
        if (mask & F_PEER)
                put_ip(msg, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, v->group.family ? &v->group : &v->remote);
        if (mask & F_LOCAL)
                put_ip(msg, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, &v->local);
        if ((mask & F_PORT) && v->dstport)
                pf_nl_put_ok(nla_put_u16(msg, IFLA_VXLAN_PORT, htons((uint16_t) v->dstport)));
        if (mask & F_LEARNING)
                pf_nl_put_ok(nla_put_u8(msg, IFLA_VXLAN_LEARNING, v->learning));
        if (parent)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_VXLAN_LINK, (uint32_t) parent));
}

static const pf_link_key keys[] = { { "learning", F_LEARNING }, { NULL, 0 } };
static const pf_link_show_key show_keys[] = {
        { "parent", PF_YAML_STR, false, NULL }, { "id", PF_YAML_NUM, false, NULL }, { "local", PF_YAML_STR, false, NULL },
        { "remote", PF_YAML_STR, false, NULL }, { "group", PF_YAML_STR, false, NULL }, { "dstport", PF_YAML_NUM, false, NULL },
        { "learning", PF_YAML_BOOL, false, NULL }, { "mtu", PF_YAML_NUM, false, NULL }, { "macAddress", PF_YAML_STR, false, NULL },
        { "state", PF_YAML_STR, false, NULL }, { "addresses", PF_YAML_STR, true, NULL }, { NULL },
};

static const char *const graph_keys[] = { "id", "local", "remote", "group", NULL };

static const pf_link_ops link_ops = {
        .kernel_kind = "vxlan", .count = count, .meta_at = meta_at, .decl_at = decl_at, .mask = mask,
        .decl_fields = decl_fields, .live_fields = live_fields, .keys = keys, .check = check, .put_data = put_data,
        .parent_in_data = true, .live_parent = live_parent, .data_apart = true, .show_keys = show_keys,
        .graph_keys = graph_keys,
};

const pf_kind_ops pf_vxlan_kind = {
        .rkind = PF_R_VXLAN, .model_kind = PF_KIND_VXLAN, .order = PF_ORDER_LINK, .flags = PF_KIND_LINK,
        .link = &link_ops, .observe = pf_link_observe, .desire = pf_link_desire, .apply = pf_link_apply,
        .show = pf_link_show, .graph = pf_link_graph,
};
