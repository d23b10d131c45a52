/* macvlan.c: the Macvlan and Macvtap kinds: a mode on a parent link. */
#include "config.h"
#include "kinds/macvlan.h"

#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "config/values.h"
#include "kinds/link.h"
#include "model/names.h"

enum { F_MODE = PF_LF_KIND << 0 };

/* the configuration's spelling of a mode is pf_macvlan_mode_enum's */
static const unsigned kernel_modes[] = {
        [PF_MACVLAN_PRIVATE] = MACVLAN_MODE_PRIVATE, [PF_MACVLAN_VEPA] = MACVLAN_MODE_VEPA,
        [PF_MACVLAN_BRIDGE] = MACVLAN_MODE_BRIDGE, [PF_MACVLAN_PASSTHRU] = MACVLAN_MODE_PASSTHRU,
};

static const char *kernel_mode_name(unsigned m) {
        for (size_t i = 0; i < sizeof(kernel_modes) / sizeof(*kernel_modes); i++)
                if (kernel_modes[i] == m)
                        return pf_enum_name(&pf_macvlan_mode_enum, (int) i);
        return m == MACVLAN_MODE_SOURCE ? "source" : "?";
}

static bool is_macvlan_link(const pf_nl_link *l) { return !strcmp(l->kind, "macvlan") || !strcmp(l->kind, "macvtap"); }

static unsigned live_mode(const pf_nl_link *l) {
        struct nlattr *tb[IFLA_MACVLAN_MAX + 1] = { 0 };
        return pf_nl_info_data(l, tb, IFLA_MACVLAN_MAX) && tb[IFLA_MACVLAN_MODE] ? nla_get_u32(tb[IFLA_MACVLAN_MODE]) : 0;
}

static const pf_macvlan *res(const pf_link_decl *x) { return x->res; }

static pf_macvlan_mode decl_mode(const pf_kind_ctx *k, const pf_macvlan *mv) {
        return pf_loc_set(mv->mode_loc) ? mv->mode : k->host->default_macvlan_mode;
}

static size_t count_macvlans(const pf_model *m) { return m->macvlans.n; }
static size_t count_macvtaps(const pf_model *m) { return m->macvtaps.n; }
static const pf_meta *meta_macvlan(const pf_model *m, size_t i) { return &m->macvlans.v[i].meta; }
static const pf_meta *meta_macvtap(const pf_model *m, size_t i) { return &m->macvtaps.v[i].meta; }

static void fill(const pf_kind_ops *kind, const pf_macvlan *mv, pf_link_decl *x) {
        *x = (pf_link_decl) { .kind = kind, .meta = &mv->meta, .res = mv, .parent = mv->parent, .parent_loc = mv->parent_loc,
                              .state = mv->state, .addrs = mv->addresses.v, .n_addrs = mv->addresses.n };
}

static void decl_macvlan(const pf_kind_ctx *k, size_t i, pf_link_decl *x) {
        const pf_macvlan *mv = &k->model->macvlans.v[i];
        fill(&pf_macvlan_kind, mv, x);
        if (pf_loc_set(mv->mac_address_loc))
                x->mac = &mv->mac_address;
}

/* a Macvtap's MAC is the VM interface's on it, when the Macvtap declares none */
static void decl_macvtap(const pf_kind_ctx *k, size_t i, pf_link_decl *x) {
        const pf_macvlan *mv = &k->model->macvtaps.v[i];
        fill(&pf_macvtap_kind, mv, x);
        x->mac = pf_macvtap_mac(k->model, mv, NULL);
}

static unsigned mask(const pf_kind_ctx *k, const pf_link_decl *x, bool adopted) {
        (void) k;
        const pf_macvlan *v = res(x);
        unsigned m = PF_LF_TYPE | PF_LF_PARENT;
        if (!adopted || pf_loc_set(v->mode_loc)) m |= F_MODE;
        if (!adopted || pf_loc_set(v->state_loc)) m |= PF_LF_STATE;
        if (x->kind == &pf_macvlan_kind && (!adopted || pf_loc_set(v->addresses_loc))) m |= PF_LF_ADDRS;
        if (x->mac) m |= PF_LF_MAC;
        return m;
}

static void decl_fields(const pf_kind_ctx *k, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        if (mask & F_MODE)
                pf_field_add(b, PF_LAND_LIVE, 0, pf_enum_name(&pf_macvlan_mode_enum, decl_mode(k, res(x))), "mode");
}

static void live_fields(const pf_kind_ctx *k, const pf_nl_link *l, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        (void) k;
        (void) x;
        if ((mask & F_MODE) && is_macvlan_link(l))
                pf_field_add(b, PF_LAND_LIVE, 0, kernel_mode_name(live_mode(l)), "mode");
}

/* The kernel changes a macvlan's mode in place, except into or out of passthru. */
static void adjust(pf_obj *want, const pf_obj *have) {
        pf_field *wm = (pf_field *) pf_obj_field(want, "mode");
        const pf_field *hm = pf_obj_field(have, "mode");
        if (wm && hm && strcmp(wm->value, hm->value) && (!strcmp(wm->value, "passthru") || !strcmp(hm->value, "passthru")))
                wm->landing = PF_LAND_RECREATE;
}

/* The kernel puts a macvlan declared on a macvlan or macvtap on that one's parent instead, so
 * the parent read back would differ from the declared one on every run. */
static void check_parent_kind(const pf_kind_ctx *k, const pf_link_decl *x, pf_diags *d) {
        const char *parent = x->parent, *kind = pf_links_kind(k, parent);
        if (!kind || (strcmp(kind, "macvlan") != 0 && strcmp(kind, "macvtap") != 0))
                return;
        const char *lower = pf_links_declared_parent(k, parent);
        const pf_nl_link *l = lower ? NULL : pf_nl_link_by_name(k->nl, parent);
        const pf_nl_link *ll = l && l->parent && !l->parent_elsewhere ? pf_nl_link_by_index(k->nl, l->parent) : NULL;
        if (!lower)
                lower = ll ? ll->name : "its parent";
        pf_error(d, x->parent_loc, "parent '%s' is a %s; the kernel puts a %s on that one's parent instead: use "
                 "parent: %s", parent, kind, x->kind->link->kernel_kind, lower);
}

/* Another link on the same parent, declared or live, preferring one in passthru. */
typedef struct neighbour { const char *name; bool passthru; } neighbour;

static void declared_neighbour(const pf_kind_ctx *k, const pf_macvlan *self, neighbour *o) {
        const pf_model *m = k->model;
        const pf_macvlan *lists[2] = { m->macvlans.v, m->macvtaps.v };
        size_t counts[2] = { m->macvlans.n, m->macvtaps.n };
        for (size_t l = 0; l < 2; l++)
                for (size_t i = 0; i < counts[l]; i++) {
                        const pf_macvlan *v = &lists[l][i];
                        if (v->meta.load_failed || !v->parent || strcmp(v->parent, self->parent) != 0 ||
                            !strcmp(v->meta.name, self->meta.name))
                                continue;
                        if (!o->name || decl_mode(k, v) == PF_MACVLAN_PASSTHRU)
                                *o = (neighbour) { v->meta.name, decl_mode(k, v) == PF_MACVLAN_PASSTHRU };
                }
}

static void live_neighbour(const pf_kind_ctx *k, const pf_macvlan *self, neighbour *o) {
        const pf_nl_link *pl = pf_nl_link_by_name(k->nl, self->parent);
        for (size_t i = 0, n = pl ? pf_nl_n_links(k->nl) : 0; i < n; i++) {
                const pf_nl_link *c = pf_nl_link_at(k->nl, i);
                if (c->parent != pl->ifindex || c->parent_elsewhere || !strcmp(c->name, self->meta.name) || !is_macvlan_link(c))
                        continue;
                /* declared on this parent: counted already; declared elsewhere: it is still here
                 * when this one is created, unless it moves first, which the order does not promise */
                const char *dp = pf_links_declared_parent(k, c->name);
                if (dp && !strcmp(dp, self->parent))
                        continue;
                if (!o->name || live_mode(c) == MACVLAN_MODE_PASSTHRU)
                        *o = (neighbour) { c->name, live_mode(c) == MACVLAN_MODE_PASSTHRU };
        }
}

/* passthru gives the parent to one link: the kernel refuses a second one either way round. */
static void check_passthru(const pf_kind_ctx *k, const pf_link_decl *x, pf_diags *d) {
        const pf_macvlan *mv = res(x);
        neighbour o = { 0 };
        declared_neighbour(k, mv, &o);
        live_neighbour(k, mv, &o);
        if (decl_mode(k, mv) == PF_MACVLAN_PASSTHRU && o.name)
                pf_error(d, pf_loc_set(mv->mode_loc) ? mv->mode_loc : mv->parent_loc, "mode passthru gives '%s' to "
                         "one link, but %s sits on it too; the kernel refuses a second link beside passthru (move %s "
                         "first: apply once without this one, with --prune if %s is podform's and no longer declared)",
                         mv->parent, o.name, o.name, o.name);
        else if (decl_mode(k, mv) != PF_MACVLAN_PASSTHRU && o.passthru)
                pf_error(d, mv->parent_loc, "'%s' is given to %s in mode passthru, and the kernel puts no other link "
                         "beside it", mv->parent, o.name);
}

static void check(const pf_kind_ctx *k, const pf_link_decl *x, pf_diags *d) {
        if (!x->parent)
                return;
        pf_link_check_exists(k, d, x->parent_loc, "parent", x->parent, "create it, declare it, or fix the name");
        /* a bridge port hands its frames to the bridge: the kernel refuses a macvlan on it */
        const char *bridge = pf_links_port_of(k, x->parent);
        if (bridge)
                pf_error(d, x->parent_loc, "parent '%s' is a port of bridge %s, and the kernel puts no macvlan "
                         "or macvtap on a bridge port; use parent: %s", x->parent, bridge, bridge);
        check_parent_kind(k, x, d);
        check_passthru(k, x, d);
}

static void put_data(const pf_kind_ctx *k, struct nl_msg *msg, const pf_link_decl *x, unsigned mask, int parent) {
        (void) parent;
        if (mask & F_MODE)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_MACVLAN_MODE, kernel_modes[decl_mode(k, res(x))]));
}

/* A passthru macvtap is created with its parent's MAC, whatever the request said (the parent
 * then takes the new one too, until the macvtap goes). */
static int after_create(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, unsigned mask, const pf_action *a, char **err) {
        if (!(mask & PF_LF_MAC) || !x->mac || decl_mode(k, res(x)) != PF_MACVLAN_PASSTHRU)
                return 0;
        struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
        pf_nl_put_ok(nla_put(msg, IFLA_ADDRESS, 6, x->mac->b));
        char subject[128];
        return pf_nl_change(k->nl, msg, pf_link_subject(a, subject, sizeof(subject)), "setting its MAC address", err);
}

static const pf_link_key keys[] = { { "mode", F_MODE }, { NULL, 0 } };
/* The kernel has modes the format lacks (source) */
static const char *mode_refused(const char *value) {
        return pf_enum_lookup(&pf_macvlan_mode_enum, value) < 0 ? "private, vepa, bridge or passthru" : NULL;
}

static const pf_link_show_key macvlan_show[] = {
        { "parent", PF_YAML_STR, false, NULL }, { "mode", PF_YAML_STR, false, mode_refused },
        { "macAddress", PF_YAML_STR, false, NULL },
        { "state", PF_YAML_STR, false, NULL }, { "addresses", PF_YAML_STR, true, NULL }, { NULL },
};
/* the kernel gives a macvtap no address of its own use: its guest has them */
static const pf_link_show_key macvtap_show[] = {
        { "parent", PF_YAML_STR, false, NULL }, { "mode", PF_YAML_STR, false, mode_refused },
        { "macAddress", PF_YAML_STR, false, NULL },
        { "state", PF_YAML_STR, false, NULL }, { NULL },
};

static const char *const macvlan_graph[] = { "mode", "addresses", NULL };
static const char *const macvtap_graph[] = { "mode", "macAddress", NULL };

static const pf_link_ops macvlan_link = {
        .kernel_kind = "macvlan", .count = count_macvlans, .meta_at = meta_macvlan, .decl_at = decl_macvlan,
        .mask = mask, .decl_fields = decl_fields, .live_fields = live_fields, .keys = keys, .check = check,
        .adjust = adjust, .put_data = put_data, .after_create = after_create, .show_keys = macvlan_show,
        .graph_keys = macvlan_graph,
};

/* a running guest on a macvtap keeps its own MAC until it restarts, and a macvtap passes only
 * frames for the macvtap's: a MAC change cuts the guest off */
static const pf_link_ops macvtap_link = {
        .kernel_kind = "macvtap", .count = count_macvtaps, .meta_at = meta_macvtap, .decl_at = decl_macvtap,
        .mask = mask, .decl_fields = decl_fields, .live_fields = live_fields, .keys = keys, .mac_disrupts = true,
        .check = check, .adjust = adjust, .put_data = put_data, .after_create = after_create, .show_keys = macvtap_show,
        .graph_keys = macvtap_graph,
};

const pf_kind_ops pf_macvlan_kind = {
        .rkind = PF_R_MACVLAN, .model_kind = PF_KIND_MACVLAN, .order = PF_ORDER_STACKED_LINK, .flags = PF_KIND_LINK,
        .link = &macvlan_link, .observe = pf_link_observe, .desire = pf_link_desire, .apply = pf_link_apply,
        .show = pf_link_show, .graph = pf_link_graph,
};

const pf_kind_ops pf_macvtap_kind = {
        .rkind = PF_R_MACVTAP, .model_kind = PF_KIND_MACVTAP, .order = PF_ORDER_STACKED_LINK, .flags = PF_KIND_LINK,
        .link = &macvtap_link, .observe = pf_link_observe, .desire = pf_link_desire, .apply = pf_link_apply,
        .show = pf_link_show, .graph = pf_link_graph,
};
