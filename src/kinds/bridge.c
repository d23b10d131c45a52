/* bridge.c: the Bridge kind: its settings (STP, forward delay), and its ports, of which podform
 * releases only those it enslaved (records/ports.h). */
#include "config.h"
#include "kinds/bridge.h"

#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "kinds/link.h"
#include "util/xalloc.h"
#include "util/suggest.h"

enum { F_STP = PF_LF_KIND << 0, F_DELAY = PF_LF_KIND << 1, F_PORTS = PF_LF_KIND << 2 };

static size_t count(const pf_model *m) { return m->bridges.n; }
static const pf_meta *meta_at(const pf_model *m, size_t i) { return &m->bridges.v[i].meta; }

static void decl_at(const pf_kind_ctx *k, size_t i, pf_link_decl *x) {
        (void) k;
        const pf_bridge *b = &k->model->bridges.v[i];
        *x = (pf_link_decl) { .kind = &pf_bridge_kind, .meta = &b->meta, .res = b, .mtu = b->mtu, .state = b->state,
                              .addrs = b->addresses.v, .n_addrs = b->addresses.n };
        if (pf_loc_set(b->mac_address_loc))
                x->mac = &b->mac_address;
}

const char *pf_bridge_declared_with_port(const pf_model *m, const char *port) {
        for (size_t i = 0; i < m->bridges.n; i++)
                for (size_t k = 0; k < m->bridges.v[i].ports.n; k++)
                        if (!strcmp(m->bridges.v[i].ports.v[k].name, port))
                                return m->bridges.v[i].meta.name;
        return NULL;
}

/* Seconds: as declared; else 0 without STP (forward at once, what PXE needs) and the kernel's
 * 15 with it (the only range STP accepts is 2 to 30). */
static unsigned forward_delay(const pf_bridge *b) {
        return pf_loc_set(b->forward_delay_loc) ? b->forward_delay : b->stp ? 15 : 0;
}

static unsigned mask(const pf_kind_ctx *k, const pf_link_decl *x, bool adopted) {
        (void) k;
        const pf_bridge *b = x->res;
        unsigned m = PF_LF_TYPE;
        if (!adopted || pf_loc_set(b->stp_loc)) m |= F_STP;
        if (!adopted || pf_loc_set(b->forward_delay_loc)) m |= F_DELAY;
        if (!adopted || pf_loc_set(b->state_loc)) m |= PF_LF_STATE;
        if (!adopted || pf_loc_set(b->addresses_loc)) m |= PF_LF_ADDRS;
        if (!adopted || pf_loc_set(b->ports_loc)) m |= F_PORTS;
        if (pf_loc_set(b->mtu_loc)) m |= PF_LF_MTU;
        if (x->mac) m |= PF_LF_MAC;
        return m;
}

static void own_fields(bool stp, unsigned delay_cs, const char **ports, size_t n_ports, unsigned mask, pf_fields *b) {
        char buf[32];
        if (mask & F_STP)
                pf_field_add(b, PF_LAND_LIVE, 0, stp ? "true" : "false", "stp");
        if (mask & F_DELAY) {
                /* the kernel keeps clock ticks; a delay set by hand need not be whole seconds */
                if (delay_cs % 100)
                        snprintf(buf, sizeof(buf), "%u.%02u", delay_cs / 100, delay_cs % 100);
                else
                        snprintf(buf, sizeof(buf), "%u", delay_cs / 100);
                pf_field_add(b, PF_LAND_LIVE, 0, buf, "forwardDelay");
        }
        if ((mask & F_PORTS) && n_ports)
                pf_field_add(b, PF_LAND_LIVE, 0, pf_link_join(b->arena, ports, n_ports), "ports");
}

static const char **declared_ports(const pf_bridge *br, pf_arena *a) {
        const char **v = pf_arena_array(a, br->ports.n + 1, sizeof(*v));
        for (size_t i = 0; i < br->ports.n; i++)
                v[i] = br->ports.v[i].name;
        return v;
}

static void decl_fields(const pf_kind_ctx *k, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        const pf_bridge *br = x->res;
        /* a port podform creates first (a VXLAN tunnel): the bridge waits for it */
        for (size_t i = 0; i < br->ports.n; i++) {
                const pf_kind_ops *declared = pf_links_declared_kind(k, br->ports.v[i].name);
                if (declared && declared->order < pf_bridge_kind.order)
                        pf_need_add(b, declared->rkind, br->ports.v[i].name);
        }
        own_fields(br->stp, forward_delay(br) * 100, declared_ports(br, b->arena), br->ports.n, mask, b);
}

static bool declared_port(const pf_link_decl *x, const char *port) {
        const pf_bridge *br = x && x->kind == &pf_bridge_kind ? x->res : NULL;
        for (size_t i = 0; br && i < br->ports.n; i++)
                if (!strcmp(br->ports.v[i].name, port))
                        return true;
        return false;
}

static void live_fields(const pf_kind_ctx *k, const pf_nl_link *l, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        struct nlattr *tb[IFLA_BR_MAX + 1] = { 0 };
        unsigned stp = 0, delay_cs = 0;
        if (strcmp(l->kind, "bridge") != 0) {   /* a link of another kind podform made */
                own_fields(false, 0, NULL, 0, mask, b);
                return;
        }
        if (pf_nl_info_data(l, tb, IFLA_BR_MAX)) {
                stp = tb[IFLA_BR_STP_STATE] ? nla_get_u32(tb[IFLA_BR_STP_STATE]) : 0;
                delay_cs = tb[IFLA_BR_FORWARD_DELAY] ? nla_get_u32(tb[IFLA_BR_FORWARD_DELAY]) : 0;
        }
        /* only ports podform manages: declared, or enslaved by podform; a VM's tap or a port
         * someone else added is never a field, so never released */
        size_t n = 0, all = pf_nl_n_links(k->nl);
        for (size_t i = 0; i < all; i++)
                n += pf_nl_link_at(k->nl, i)->master == l->ifindex;
        const char **ports = pf_arena_array(b->arena, n + 1, sizeof(*ports));
        n = 0;
        for (size_t i = 0; i < all; i++) {
                const pf_nl_link *p = pf_nl_link_at(k->nl, i);
                if (p->master == l->ifindex && (declared_port(x, p->name) || pf_ports_has(pf_nl_ports(k->nl), l->name, p->name)))
                        ports[n++] = p->name;
        }
        own_fields(stp != 0, delay_cs, ports, n, mask, b);
}

/* A live macvlan or macvtap on `parent` that is not declared there: someone else's, podform's
 * to prune, or one that moves to another parent later in the same apply (links of one kind are
 * created before the next kind is changed). NULL when none. */
static const pf_nl_link *undeclared_child(const pf_kind_ctx *k, const pf_nl_link *parent) {
        for (size_t i = 0, n = pf_nl_n_links(k->nl); i < n; i++) {
                const pf_nl_link *c = pf_nl_link_at(k->nl, i);
                if (c->parent != parent->ifindex || c->parent_elsewhere || (strcmp(c->kind, "macvlan") && strcmp(c->kind, "macvtap")))
                        continue;
                const char *dp = pf_links_declared_parent(k, c->name);
                if (!dp || strcmp(dp, parent->name) != 0)
                        return c;
        }
        return NULL;
}

static void check_port(const pf_kind_ctx *k, const pf_meta *meta, const pf_name *p, pf_diags *d) {
        const char *other = pf_bridge_declared_with_port(k->model, p->name);
        if (other && strcmp(other, meta->name) != 0)
                pf_error(d, p->loc, "port '%s' is also declared on Bridge %s; a link is a port of one bridge at a "
                         "time, so podform would move it back and forth", p->name, other);
        const pf_nl_link *pl = pf_nl_link_by_name(k->nl, p->name);
        const pf_kind_ops *declared = pf_links_declared_kind(k, p->name);
        if (!pl && declared && declared->order < pf_bridge_kind.order)
                return;         /* created before bridges are (a VXLAN tunnel) */
        const char *near = pl ? NULL : pf_links_near(k, p->name);
        if (!pl)
                pf_error(d, p->loc, "port '%s' of Bridge %s is not a link on this host; ports are existing links "
                         "(NICs, veths) podform enslaves; create it or fix the name" PF_HINT_FMT, p->name, meta->name,
                         PF_HINT(near));
        else if (!strcmp(pl->kind, "bridge"))
                pf_error(d, p->loc, "port '%s' of Bridge %s is a bridge itself, which the kernel cannot enslave",
                         p->name, meta->name);
        const pf_nl_link *child = pl ? undeclared_child(k, pl) : NULL;
        if (child)
                pf_error(d, p->loc, "port '%s' of Bridge %s carries %s %s, and the kernel enslaves no link that "
                         "has macvlans on it; move %s off %s first: apply once without the port (with --prune if "
                         "%s is podform's and no longer declared)", p->name, meta->name, child->kind, child->name,
                         child->name, p->name, child->name);
}

static void check(const pf_kind_ctx *k, const pf_link_decl *x, pf_diags *d) {
        const pf_bridge *br = x->res;
        for (size_t i = 0; i < br->ports.n; i++)
                check_port(k, x->meta, &br->ports.v[i], d);
}

static void put_data(const pf_kind_ctx *k, struct nl_msg *msg, const pf_link_decl *x, unsigned mask, int parent) {
        (void) k;
        (void) parent;
        const pf_bridge *br = x->res;
        /* the kernel sets the delay before STP (turning STP off goes first, alone) */
        if (mask & F_DELAY)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, forward_delay(br) * 100));
        if (mask & F_STP)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_BR_STP_STATE, br->stp));
}

static int set_master(pf_kind_ctx *k, const char *bridge, int bridge_index, const char *port, bool enslave,
                      const pf_action *a, char **err) {
        pf_ports *rec = pf_nl_ports(k->nl);
        pf_nl_link pl;
        if (pf_nl_get_link(k->nl, port, &pl) < 0) {
                if (!enslave) {         /* gone, so released */
                        pf_ports_forget(rec, bridge, port);
                        return 0;
                }
                *err = pf_xasprintf("%s %s: port '%s' is not a link on this host", pf_rkind_name(a->kind), a->name, port);
                return -1;
        }
        if (!enslave && pl.master != bridge_index) {
                /* another bridge took it earlier in this apply (or someone did): not ours to release */
                pf_ports_forget(rec, bridge, port);
                return 0;
        }
        struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, pl.ifindex, 0, 0);
        pf_nl_put_ok(nla_put_u32(msg, IFLA_MASTER, enslave ? (uint32_t) bridge_index : 0));
        char what[64], subject[128];
        snprintf(what, sizeof(what), "%s port %s", enslave ? "enslaving" : "releasing", port);
        if (pf_nl_change(k->nl, msg, pf_link_subject(a, subject, sizeof(subject)), what, err) < 0)
                return -1;
        if (enslave)
                pf_ports_add(rec, bridge, port);
        else
                pf_ports_forget(rec, bridge, port);
        return 0;
}

int pf_bridge_take_back(pf_kind_ctx *k, const char *port, const pf_action *a, char **err) {
        const char *bridge = pf_bridge_declared_with_port(k->model, port);
        pf_nl_link br;
        if (!bridge || pf_nl_get_link(k->nl, bridge, &br) < 0)
                return 0;       /* the bridge is created later, and enslaves it then */
        return set_master(k, bridge, br.ifindex, port, true, a, err);
}

static int port_item(pf_kind_ctx *k, const char *link, int ifindex, const char *item, bool add, const pf_action *a, char **err) {
        return set_master(k, link, ifindex, item, add, a, err);
}

static int after_create(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, unsigned mask, const pf_action *a, char **err) {
        const pf_bridge *br = x->res;
        if (br->ports.n) {
                pf_arena scratch = { 0 };
                const char *ports = pf_link_join(&scratch, declared_ports(br, &scratch), br->ports.n);
                int r = pf_link_sync_list(k, ifindex, false, NULL, ports, port_item, a, err);
                pf_arena_free(&scratch);
                if (r < 0)
                        return -1;
        }
        /* a bridge takes its ports' MTU unless the MTU was set by a change, not at creation */
        if ((mask & PF_LF_MTU) && br->mtu) {
                struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
                pf_nl_put_ok(nla_put_u32(msg, IFLA_MTU, br->mtu));
                char subject[128];
                return pf_nl_change(k->nl, msg, pf_link_subject(a, subject, sizeof(subject)), "setting its MTU", err);
        }
        return 0;
}

static int before_change(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, unsigned *mask, const pf_action *a, char **err) {
        const pf_bridge *br = x->res;
        if (!(*mask & F_STP) || br->stp)
                return 0;
        /* the kernel applies the delay before the STP state, whatever the order in the request:
         * a delay below STP's range must wait until STP is off */
        struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
        struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
        pf_nl_put_ok(nla_put_string(msg, IFLA_INFO_KIND, "bridge"));
        struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
        put_data(k, msg, x, F_STP, 0);
        nla_nest_end(msg, data);
        nla_nest_end(msg, info);
        char subject[128];
        if (pf_nl_change(k->nl, msg, pf_link_subject(a, subject, sizeof(subject)), "turning STP off", err) < 0)
                return -1;
        *mask &= ~(unsigned) F_STP;
        return 0;
}

static int after_change(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, const pf_action *a, char **err) {
        (void) x;
        for (size_t i = 0; i < a->changes.n; i++) {
                const pf_change *c = &a->changes.v[i];
                if (!strcmp(c->key, "ports") &&
                    pf_link_sync_list(k, ifindex, false, c->old_value, c->new_value, port_item, a, err) < 0)
                        return -1;
        }
        return 0;
}

/* Deleting a bridge releases all its ports: refuse while it holds one podform did not enslave
 * (a container's veth, a tap someone added). The VMs deleted earlier in the plan have taken
 * their taps along by now, so this looks at the host as it is at this point. */
static int before_delete(pf_kind_ctx *k, const pf_action *a, char **err) {
        char *why = NULL;
        if (pf_nl_observe_links(k->nl, &why) < 0) {     /* ports only: addresses are read again where needed */
                *err = pf_xasprintf("%s %s: %s", pf_rkind_name(a->kind), a->name, why);
                free(why);
                return -1;
        }
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, a->name);
        if (!l)
                return 0;
        size_t len = 0;
        char foreign[512] = "";
        for (size_t i = 0, n = pf_nl_n_links(k->nl); i < n; i++) {
                const pf_nl_link *p = pf_nl_link_at(k->nl, i);
                if (p->master == l->ifindex && !pf_ports_has(pf_nl_ports(k->nl), l->name, p->name) &&
                    len + strlen(p->name) + 3 < sizeof(foreign))
                        len += (size_t) snprintf(foreign + len, sizeof(foreign) - len, "%s%s", len ? ", " : "", p->name);
        }
        if (len) {
                *err = pf_xasprintf("bridge %s: not deleted: it holds ports podform did not enslave (%s); release "
                                    "them or declare the bridge again", a->name, foreign);
                return -1;
        }
        return 0;
}

static void after_delete(pf_kind_ctx *k, const pf_action *a) { pf_ports_forget(pf_nl_ports(k->nl), a->name, NULL); }

static const pf_link_key keys[] = { { "stp", F_STP }, { "forwardDelay", F_DELAY }, { NULL, 0 } };

/* The kernel keeps the delay in clock ticks and, without STP, takes any; the format whole
 * seconds from 0 to 30 (config/kinds.c). */
static const char *delay_refused(const char *value) {
        char *end;
        unsigned long s = strtoul(value, &end, 10);
        return *end || s > 30 ? "whole seconds from 0 to 30" : NULL;
}

static const char *const graph_keys[] = { "addresses", NULL };

static const pf_link_show_key show_keys[] = {
        { "stp", PF_YAML_BOOL, false, NULL }, { "forwardDelay", PF_YAML_NUM, false, delay_refused },
        { "ports", PF_YAML_STR, true, NULL },
        { "mtu", PF_YAML_NUM, false, NULL }, { "macAddress", PF_YAML_STR, false, NULL }, { "state", PF_YAML_STR, false, NULL },
        { "addresses", PF_YAML_STR, true, NULL }, { NULL },
};

/* Every port the bridge has, declared or not (the observed field holds only those podform
 * manages), but taps: a VM's NIC is enslaved by libvirt whenever the VM starts, under a name it
 * picks, and podform leaves such ports alone anyway. */
static const char *show_value(const pf_kind_ctx *k, const pf_obj *live, const char *key, pf_arena *a) {
        const pf_nl_link *br = strcmp(key, "ports") ? NULL : pf_nl_link_by_name(k->nl, live->name);
        if (!br)
                return NULL;
        size_t n = 0, total = pf_nl_n_links(k->nl);
        const char **ports = pf_arena_array(a, total + 1, sizeof(*ports));
        for (size_t i = 0; i < total; i++) {
                const pf_nl_link *p = pf_nl_link_at(k->nl, i);
                if (p->master == br->ifindex && strcmp(p->kind, "tun") != 0)
                        ports[n++] = p->name;
        }
        return pf_link_join(a, ports, n);
}

static const pf_link_ops link_ops = {
        .kernel_kind = "bridge", .count = count, .meta_at = meta_at, .decl_at = decl_at, .mask = mask,
        .decl_fields = decl_fields, .live_fields = live_fields, .keys = keys, .mtu_after_create = true,
        .show_keys = show_keys, .show_value = show_value, .graph_keys = graph_keys,
        .check = check, .put_data = put_data, .after_create = after_create, .before_change = before_change,
        .after_change = after_change, .before_delete = before_delete, .after_delete = after_delete,
};

const pf_kind_ops pf_bridge_kind = {
        .rkind = PF_R_BRIDGE, .model_kind = PF_KIND_BRIDGE, .order = PF_ORDER_MASTER_LINK, .flags = PF_KIND_LINK,
        .link = &link_ops, .observe = pf_link_observe, .desire = pf_link_desire, .apply = pf_link_apply,
        .show = pf_link_show, .graph = pf_link_graph,
};
