/* link.c: what the host-link kinds share (link.h). */
#include "config.h"
#include "kinds/link.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "config/values.h"
#include "kinds/bridge.h"
#include "model/names.h"
#include "util/cleanup.h"
#include "util/suggest.h"
#include "util/xalloc.h"

/* ---- the link kinds, and their declarations ---- */

static const pf_kind_ops *kind_of(const char *kernel_kind) {
        PF_EACH_KIND(ops)
                if (ops->link && !strcmp(ops->link->kernel_kind, kernel_kind))
                        return ops;
        return NULL;
}

/* One declared link; the index is sorted by name, then in the order of the kinds and of the
 * declarations, so the first entry of a name is the declaration a scan would find first. */
typedef struct link_name {
        const char *name;
        const pf_kind_ops *ops;
        size_t kind_rank, i;
} link_name;

struct pf_link_names {
        link_name *v;
        size_t n;
};

static int cmp_link_name(const void *a, const void *b) {
        const link_name *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        if (c)
                return c;
        if (x->kind_rank != y->kind_rank)
                return x->kind_rank < y->kind_rank ? -1 : 1;
        return x->i < y->i ? -1 : x->i > y->i;
}

void pf_links_index(pf_kind_ctx *k) {
        pf_links_index_free(k);
        struct pf_link_names *ix = pf_xcalloc(1, sizeof(*ix));
        size_t rank = 0, cap = 0;
        PF_EACH_KIND(ops) {
                rank++;
                if (!ops->link || !k->model)
                        continue;
                for (size_t i = 0, n = ops->link->count(k->model); i < n; i++) {
                        const pf_meta *m = ops->link->meta_at(k->model, i);
                        if (!m->name)
                                continue;
                        if (ix->n == cap) {
                                cap = cap ? 2 * cap : 64;
                                ix->v = pf_xreallocarray(ix->v, cap, sizeof(*ix->v));
                        }
                        ix->v[ix->n++] = (link_name) { m->name, ops, rank, i };
                }
        }
        if (ix->n)
                qsort(ix->v, ix->n, sizeof(*ix->v), cmp_link_name);
        k->link_names = ix;
}

void pf_links_index_free(pf_kind_ctx *k) {
        if (k->link_names)
                free(k->link_names->v);
        free(k->link_names);
        k->link_names = NULL;
}

/* The first declaration of that name (of kind `only`, unless NULL), or NULL. */
static const link_name *declared(const pf_kind_ctx *k, const pf_kind_ops *only, const char *name) {
        const struct pf_link_names *ix = k->link_names;
        assert(ix && "pf_links_index() makes the index before any lookup");
        size_t lo = 0, hi = ix->n;
        while (lo < hi) {       /* the first entry not below `name` */
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(ix->v[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < ix->n && !strcmp(ix->v[lo].name, name); lo++)
                if (!only || ix->v[lo].ops == only)
                        return &ix->v[lo];
        return NULL;
}

/* The declared link of that name (of any link kind) into x, else false. */
static bool find_decl(const pf_kind_ctx *k, const pf_kind_ops *only, const char *name, pf_link_decl *x) {
        const link_name *e = declared(k, only, name);
        if (e && x)
                e->ops->link->decl_at(k, e->i, x);
        return e != NULL;
}

/* The kind a link of that name is declared as, and whether that declaration loaded. */
static const pf_kind_ops *declared_kind(const pf_kind_ctx *k, const char *name, bool *loaded) {
        const link_name *e = declared(k, NULL, name);
        if (e && loaded)
                *loaded = !e->ops->link->meta_at(k->model, e->i)->load_failed;
        return e ? e->ops : NULL;
}

const char *pf_links_kind(const pf_kind_ctx *k, const char *ifname) {
        const pf_kind_ops *declared = k->model ? declared_kind(k, ifname, NULL) : NULL;
        if (declared)
                return declared->link->kernel_kind;
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, ifname);
        return !l ? NULL : l->kind[0] ? l->kind : "device";
}

/* The bridge `ifname` is (or is declared to become) a port of, or NULL. */
const char *pf_links_port_of(const pf_kind_ctx *k, const char *ifname) {
        const char *declared = pf_bridge_declared_with_port(k->model, ifname);
        if (declared)
                return declared;
        /* a port podform enslaved and no longer declares is released before links are created */
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, ifname);
        const pf_nl_link *master = l && l->master ? pf_nl_link_by_index(k->nl, l->master) : NULL;
        return master && !strcmp(master->kind, "bridge") && !pf_ports_has(pf_nl_ports(k->nl), master->name, ifname)
               ? master->name : NULL;
}

const char *pf_links_near(const pf_kind_ctx *k, const char *ifname) {
        size_t n_declared = k->link_names ? k->link_names->n : 0, n_live = k->nl ? pf_nl_n_links(k->nl) : 0, n = 0;
        const char **v = pf_xcalloc(n_declared + n_live + 1, sizeof(*v));
        for (size_t i = 0; i < n_declared; i++)
                v[n++] = k->link_names->v[i].name;
        for (size_t i = 0; i < n_live; i++)
                v[n++] = pf_nl_link_at(k->nl, i)->name;
        const char *near = pf_suggest(ifname, v, n);
        free(v);
        return near;
}

static const char *view_kind(void *ud, const char *ifname) { return pf_links_kind(ud, ifname); }
static const char *view_near(void *ud, const char *ifname) { return pf_links_near(ud, ifname); }
static const char *view_port_of(void *ud, const char *ifname) { return pf_links_port_of(ud, ifname); }

pf_link_view pf_links_view(pf_kind_ctx *k) {
        return (pf_link_view) { .kind = view_kind, .port_of = view_port_of, .near = view_near, .ud = k };
}

const pf_kind_ops *pf_links_declared_kind(const pf_kind_ctx *k, const char *name) {
        return declared_kind(k, name, NULL);
}

const char *pf_links_declared_parent(const pf_kind_ctx *k, const char *name) {
        pf_link_decl x;
        return find_decl(k, NULL, name, &x) ? x.parent : NULL;
}

/* "podform:<Kind>/<name>" on a link of that name: podform created it. */
bool pf_link_owned(const pf_nl_link *l) {
        if (!l->alias || strncmp(l->alias, "podform:", 8) != 0)
                return false;
        const char *slash = strchr(l->alias + 8, '/');
        return slash && !strcmp(slash + 1, l->name);
}

const char *pf_link_subject(const pf_action *a, char *buf, size_t size) {
        snprintf(buf, size, "%s %s", pf_rkind_name(a->kind), a->name);
        return buf;
}

void pf_link_check_exists(const pf_kind_ctx *k, pf_diags *d, pf_loc at, const char *what, const char *ifname, const char *fix) {
        if (pf_links_kind(k, ifname))
                return;
        const char *near = pf_links_near(k, ifname);
        pf_error(d, at, "%s '%s' is neither a link on this host nor declared as a " PF_LINK_KINDS_TEXT "; %s" PF_HINT_FMT, what,
                 ifname, fix, PF_HINT(near));
}

/* ---- fields: one extractor for both sides ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *) a, *(const char *const *) b); }

const char *pf_link_join(pf_arena *a, const char **v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_str);
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + 2;
        char *s = pf_arena_alloc(a, len), *p = s;
        *p = '\0';
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s%s", i ? ", " : "", v[i]);
        return s;
}

/* The fields every link has; `addrs` are "ADDR/PREFIX" strings. */
typedef struct common {
        const char *type, *parent, *mac;
        unsigned mtu;
        bool up;
        const char **addrs;
        size_t n_addrs;
} common;

static void common_fields(const common *s, unsigned mask, pf_fields *b) {
        char buf[32];
        const pf_kind_ops *kind = kind_of(s->type);
        pf_field_add(b, PF_LAND_RECREATE, 0, s->type, "type");
        if ((mask & PF_LF_PARENT) && s->parent)
                pf_field_add(b, PF_LAND_RECREATE, 0, s->parent, "parent");
        if ((mask & PF_LF_MTU) && s->mtu) {
                snprintf(buf, sizeof(buf), "%u", s->mtu);
                pf_field_add(b, PF_LAND_LIVE, 0, buf, "mtu");
        }
        /* a running guest on a macvtap keeps its own MAC until it restarts, and a macvtap
         * passes only frames for the macvtap's */
        if ((mask & PF_LF_MAC) && s->mac)
                pf_field_add(b, PF_LAND_LIVE, kind && kind->link->mac_disrupts ? PF_FIELD_DISRUPTS : 0, s->mac, "macAddress");
        if (mask & PF_LF_STATE)
                pf_field_add(b, PF_LAND_LIVE, 0, s->up ? "up" : "down", "state");
        if ((mask & PF_LF_ADDRS) && s->n_addrs)
                pf_field_add(b, PF_LAND_LIVE, 0, pf_link_join(b->arena, s->addrs, s->n_addrs), "addresses");
        if (s->parent)
                pf_need_link(b, s->parent);
}

static const char **decl_addrs(const pf_link_decl *x, pf_arena *a) {
        char buf[64];
        const char **v = pf_arena_array(a, x->n_addrs + 1, sizeof(*v));
        for (size_t i = 0; i < x->n_addrs; i++)
                v[i] = pf_arena_strdup(a, pf_cidr_format(&x->addrs[i].cidr, buf));
        return v;
}

static void decl_common(const pf_link_decl *x, pf_arena *a, common *s) {
        char buf[32];
        *s = (common) { .type = x->kind->link->kernel_kind, .parent = x->parent, .mtu = x->mtu,
                        .up = x->state == PF_LINK_UP, .addrs = decl_addrs(x, a), .n_addrs = x->n_addrs };
        if (x->mac)
                s->mac = pf_arena_strdup(a, pf_mac_format(x->mac, buf));
}

static void live_common(const pf_kind_ctx *k, const pf_nl_link *l, const pf_kind_ops *live, common *s) {
        const char *parent = live && live->link->live_parent ? live->link->live_parent(k, l) : pf_nl_parent_name(k->nl, l);
        *s = (common) { .type = l->kind[0] ? l->kind : "device", .parent = parent, .mtu = l->mtu,
                        .mac = l->mac[0] ? l->mac : NULL, .up = (l->flags & IFF_UP) != 0,
                        .addrs = (const char **) l->addrs, .n_addrs = l->n_addrs };
}

/* The live link's fields under x's mask (x NULL: an undeclared link, all of them). The own
 * fields are those of the declared kind, read as that kind reads them (a link of another kind
 * podform made reads as having none of them set: it is recreated anyway). */
static void live_fields(const pf_kind_ctx *k, const pf_nl_link *l, const pf_link_decl *x, unsigned mask, pf_fields *b) {
        const pf_kind_ops *live = kind_of(l->kind), *reader = x ? x->kind : live;
        common s;
        live_common(k, l, live, &s);
        common_fields(&s, mask, b);
        if (reader)
                reader->link->live_fields(k, l, x, mask, b);
}

/* ---- observe ---- */

/* Whether a live link is read under a declaration: one of its kind, or any podform made. */
static bool claimed(const pf_kind_ctx *k, const pf_nl_link *l, const pf_kind_ops *live) {
        bool loaded;
        const pf_kind_ops *declared = declared_kind(k, l->name, &loaded);
        return declared && loaded && (declared == live || pf_link_owned(l));
}

static void observe_declared(pf_kind_ctx *k, const pf_kind_ops *kind, size_t i, pf_objset *have) {
        pf_link_decl x;
        kind->link->decl_at(k, i, &x);
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, x.meta->name);
        if (x.meta->load_failed || !l || !claimed(k, l, kind_of(l->kind)))
                return;
        bool mine = pf_link_owned(l);
        pf_fields b;
        pf_fields_init(&b, &have->arena);
        live_fields(k, l, &x, kind->link->mask(k, &x, !mine), &b);
        pf_obj *o = pf_objset_add(have, kind->rkind, x.meta->name);
        o->owned = mine;
        pf_fields_finish(&b, o);
        pf_fields_free(&b);
}

/* Each link kind takes its declarations, and the live links of its kernel kind that no
 * declaration claims. The transport observed once for all of them (run/stages.c). */
int pf_link_observe(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err) {
        (void) err;
        for (size_t i = 0, n = self->link->count(k->model); i < n; i++)
                observe_declared(k, self, i, have);
        for (size_t i = 0, n = pf_nl_n_links(k->nl); i < n; i++) {
                const pf_nl_link *l = pf_nl_link_at(k->nl, i);
                if (kind_of(l->kind) != self || claimed(k, l, self))
                        continue;
                pf_fields b;
                pf_fields_init(&b, &have->arena);
                live_fields(k, l, NULL, ~0u, &b);
                pf_obj *o = pf_objset_add(have, self->rkind, l->name);
                o->owned = pf_link_owned(l);
                pf_fields_finish(&b, o);
                pf_fields_free(&b);
        }
        return 0;
}

/* ---- desire ---- */

/* Recreating someone else's link would make it podform's: that is theirs to decide. */
static void check_recreate(const pf_kind_ops *self, const pf_obj *want, const pf_obj *have, pf_diags *d) {
        for (size_t i = 0; i < want->fields.n; i++) {
                const pf_field *wf = &want->fields.v[i], *hf = pf_obj_field(have, wf->key);
                if (wf->landing == PF_LAND_RECREATE && hf && strcmp(wf->value, hf->value) != 0)
                        pf_error(d, want->loc, "%s %s is not podform's, and changing its %s from %s to %s means "
                                 "deleting and creating it; delete it by hand (podform then creates it as its own) or "
                                 "keep %s", pf_kind_title(self), want->name, wf->key, hf->value, wf->value, hf->value);
        }
}

static void desire_one(const pf_kind_ops *self, pf_kind_ctx *k, size_t i, pf_objset *have, pf_objset *want, pf_diags *d) {
        pf_link_decl x;
        self->link->decl_at(k, i, &x);
        const pf_meta *meta = x.meta;
        if (meta->load_failed)
                return;
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, meta->name);
        bool mine = l && pf_link_owned(l);
        if (l && kind_of(l->kind) != self && !mine) {
                pf_error(d, meta->name_loc, "%s %s: the name is taken by a %s link podform did not create; podform does not "
                         "replace someone else's link: rename the %s, or delete the link by hand", pf_kind_title(self),
                         meta->name, l->kind[0] ? l->kind : "network device", pf_kind_title(self));
                return;
        }
        if (self->link->check)  /* checks that would otherwise fail at apply time */
                self->link->check(k, &x, d);
        unsigned mask = self->link->mask(k, &x, l && !mine);
        pf_fields b;
        pf_fields_init(&b, &want->arena);
        common s;
        decl_common(&x, &want->arena, &s);
        common_fields(&s, mask, &b);
        self->link->decl_fields(k, &x, mask, &b);
        size_t wi = want->objs.n;
        pf_obj *w = pf_objset_add(want, self->rkind, meta->name);
        w->active = true;
        w->loc = meta->name_loc;
        pf_fields_finish(&b, w);
        pf_fields_free(&b);
        const pf_obj *o = l ? pf_objset_find(have, self->rkind, meta->name) : NULL;
        if (!o)
                return;
        if (self->link->adjust)
                self->link->adjust(&want->objs.v[wi], o);
        if (!mine)
                check_recreate(self, &want->objs.v[wi], o, d);
}

void pf_link_desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d) {
        for (size_t i = 0, n = self->link->count(k->model); i < n; i++)
                desire_one(self, k, i, have, want, d);
}

/* ---- apply ---- */

static int ifindex_of(pf_kind_ctx *k, const char *name, const char *role, const pf_action *a, char **err) {
        pf_nl_link l;
        if (pf_nl_get_link(k->nl, name, &l) < 0) {
                *err = pf_xasprintf("%s %s: %s '%s' is not a link on this host", pf_rkind_name(a->kind), a->name, role, name);
                return -1;
        }
        return l.ifindex;
}

static int change(pf_kind_ctx *k, struct nl_msg *msg, const char *what, const pf_action *a, char **err) {
        char subject[128];
        return pf_nl_change(k->nl, msg, pf_link_subject(a, subject, sizeof(subject)), what, err);
}

/* IFLA_LINKINFO: the kind, and its own settings in `mask`. */
static void put_linkinfo(const pf_kind_ctx *k, struct nl_msg *msg, const pf_link_decl *x, unsigned mask, int parent) {
        struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
        pf_nl_put_ok(nla_put_string(msg, IFLA_INFO_KIND, x->kind->link->kernel_kind));
        if (mask & PF_LF_KIND_MASK) {
                struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
                x->kind->link->put_data(k, msg, x, mask, parent);
                nla_nest_end(msg, data);
        }
        nla_nest_end(msg, info);
}

static void put_common(struct nl_msg *msg, const pf_link_decl *x, unsigned mask) {
        if ((mask & PF_LF_MTU) && x->mtu)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_MTU, x->mtu));
        if ((mask & PF_LF_MAC) && x->mac)
                pf_nl_put_ok(nla_put(msg, IFLA_ADDRESS, 6, x->mac->b));
}

static int addr_change(pf_kind_ctx *k, const char *link, int ifindex, const char *cidr, bool add, const pf_action *a,
                       char **err) {
        (void) link;
        char ip[INET6_ADDRSTRLEN];
        const char *slash = strchr(cidr, '/');
        size_t len = slash ? (size_t) (slash - cidr) : strlen(cidr);
        snprintf(ip, sizeof(ip), "%.*s", (int) len, cidr);
        unsigned char bin[16];
        int family = strchr(ip, ':') ? AF_INET6 : AF_INET, type = add ? RTM_NEWADDR : RTM_DELADDR;
        if (inet_pton(family, ip, bin) != 1) {
                *err = pf_xasprintf("%s %s: address %s cannot be parsed", pf_rkind_name(a->kind), a->name, cidr);
                return -1;
        }
        struct nl_msg *msg = nlmsg_alloc_simple(type, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
        if (!msg)
                pf_oom();
        struct ifaddrmsg ifa = { .ifa_family = (unsigned char) family,
                                 .ifa_prefixlen = (unsigned char) (slash ? atoi(slash + 1) : (family == AF_INET ? 32 : 128)),
                                 .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned) ifindex };
        pf_nl_put_ok(nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO));
        size_t n = family == AF_INET ? 4 : 16;
        pf_nl_put_ok(nla_put(msg, IFA_LOCAL, (int) n, bin));
        pf_nl_put_ok(nla_put(msg, IFA_ADDRESS, (int) n, bin));
        char what[128];
        snprintf(what, sizeof(what), "%s address %s", add ? "adding" : "removing", cidr);
        return change(k, msg, what, a, err);
}

/* The items of a list field value (pf_link_join). */
typedef struct items { char *buf; const char **v; size_t n; } items;

static void split(const char *s, items *it) {
        it->n = 0;
        it->buf = pf_xstrdup(s ? s : "");
        it->v = pf_xreallocarray(NULL, strlen(it->buf) / 2 + 2, sizeof(*it->v));
        for (char *p = it->buf; *p;) {
                char *sep = strstr(p, ", ");
                it->v[it->n++] = p;
                if (!sep)
                        break;
                *sep = '\0';
                p = sep + 2;
        }
}

static void items_free(items *it) {
        free(it->buf);
        free(it->v);
}

static bool has_item(const items *it, const char *s) {
        for (size_t i = 0; i < it->n; i++)
                if (!strcmp(it->v[i], s))
                        return true;
        return false;
}

static bool has_addr(const pf_nl_link *l, const char *cidr) {
        for (size_t i = 0; l && i < l->n_addrs; i++)
                if (!strcmp(l->addrs[i], cidr))
                        return true;
        return false;
}

/* The address dump again, into the observed links (their addresses only). */
static int reobserve_addrs(pf_kind_ctx *k, const pf_action *a, char **err) {
        char *why = NULL;
        if (pf_nl_observe_addrs(k->nl, &why) < 0) {
                *err = pf_xasprintf("%s %s: %s", pf_rkind_name(a->kind), a->name, why);
                free(why);
                return -1;
        }
        return 0;
}

int pf_link_sync_list(pf_kind_ctx *k, int ifindex, bool addresses, const char *old_value, const char *new_value,
                      pf_link_item_fn item, const pf_action *a, char **err) {
        items before, after;
        split(old_value, &before);
        split(new_value, &after);
        int r = 0;
        bool removed = false;
        for (size_t i = 0; r == 0 && i < before.n; i++)
                if (!has_item(&after, before.v[i])) {
                        r = item(k, a->name, ifindex, before.v[i], false, a, err);
                        removed = true;
                }
        /* removing an IPv4 primary takes its subnet's secondaries along (promote_secondaries
         * is off by default): what to add is judged on what the link has now */
        const pf_nl_link *l = NULL;
        bool fresh = r == 0 && removed && addresses && reobserve_addrs(k, a, err) == 0;
        if (r == 0 && removed && addresses && !fresh)
                r = -1;
        if (fresh)
                l = pf_nl_link_by_name(k->nl, a->name);
        for (size_t i = 0; r == 0 && i < after.n; i++)
                if (fresh ? !has_addr(l, after.v[i]) : !has_item(&before, after.v[i]))
                        r = item(k, a->name, ifindex, after.v[i], true, a, err);
        items_free(&before);
        items_free(&after);
        return r;
}

static int delete_link(pf_kind_ctx *k, const pf_kind_ops *self, int ifindex, const pf_action *a, char **err) {
        struct nl_msg *msg = pf_nl_link_msg(RTM_DELLINK, 0, ifindex, 0, 0);
        if (change(k, msg, "deleting the link", a, err) < 0)
                return -1;
        if (self->link->after_delete)
                self->link->after_delete(k, a);
        return 0;
}

/* The kernel ignores an alias in the creation request, so it is a second one; a link podform
 * cannot mark as its own would be someone else's: take it back. */
static int mark_owned(pf_kind_ctx *k, const pf_link_decl *x, int self_index, const pf_action *a, char **err) {
        struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, self_index, 0, 0);
        char alias[64];
        snprintf(alias, sizeof(alias), "podform:%s/%s", pf_kind_title(x->kind), a->name);
        pf_nl_put_ok(nla_put_string(msg, IFLA_IFALIAS, alias));
        if (change(k, msg, "marking it as podform's (IFLA_IFALIAS)", a, err) < 0) {
                char *ignored = NULL;
                delete_link(k, x->kind, self_index, a, &ignored);
                free(ignored);
                return -1;
        }
        return 0;
}

static int create_link(pf_kind_ctx *k, const pf_link_decl *x, const pf_action *a, char **err) {
        const pf_link_ops *ops = x->kind->link;
        unsigned mask = ops->mask(k, x, false);
        int parent = 0;
        if (x->parent && (parent = ifindex_of(k, x->parent, "parent", a, err)) < 0)
                return -1;
        bool up = x->state == PF_LINK_UP;
        struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, up ? IFF_UP : 0, IFF_UP);
        pf_nl_put_ok(nla_put_string(msg, IFLA_IFNAME, a->name));
        if (parent && !ops->parent_in_data)
                pf_nl_put_ok(nla_put_u32(msg, IFLA_LINK, (uint32_t) parent));
        put_common(msg, x, ops->mtu_after_create ? mask & ~PF_LF_MTU : mask);
        put_linkinfo(k, msg, x, mask, parent);
        if (change(k, msg, "creating the link", a, err) < 0)
                return -1;
        int self = ifindex_of(k, a->name, "the link just created", a, err);
        if (self < 0 || mark_owned(k, x, self, a, err) < 0)
                return -1;
        int r = 0;
        if ((mask & PF_LF_ADDRS) && x->n_addrs) {
                pf_arena scratch = { 0 };
                const char *addrs = pf_link_join(&scratch, decl_addrs(x, &scratch), x->n_addrs);
                r = pf_link_sync_list(k, self, true, NULL, addrs, addr_change, a, err);
                pf_arena_free(&scratch);
        }
        if (r == 0 && ops->after_create)
                r = ops->after_create(k, x, self, mask, a, err);
        /* recreated: it was a port, and the plan saw no change of its bridge's ports */
        if (r == 0 && a->op == PF_OP_CHANGE && x->kind != &pf_bridge_kind)
                r = pf_bridge_take_back(k, a->name, a, err);
        return r;
}

static const pf_change *find_change(const pf_action *a, const char *key) {
        for (size_t i = 0; i < a->changes.n; i++)
                if (!strcmp(a->changes.v[i].key, key))
                        return &a->changes.v[i];
        return NULL;
}

static unsigned changed_mask(const pf_link_ops *ops, const pf_action *a) {
        static const pf_link_key common_keys[] = {
                { "mtu", PF_LF_MTU }, { "macAddress", PF_LF_MAC }, { "state", PF_LF_STATE }, { NULL, 0 },
        };
        unsigned mask = 0;
        for (const pf_link_key *key = common_keys; key->key; key++)
                if (find_change(a, key->key))
                        mask |= key->bit;
        for (const pf_link_key *key = ops->keys; key && key->key; key++)
                if (find_change(a, key->key))
                        mask |= key->bit;
        return mask;
}

/* A link going down loses its IPv6 addresses (keep_addr_on_down is off by default): compare
 * with what it has now. */
static int resync_addrs(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, const pf_action *a, char **err) {
        if (reobserve_addrs(k, a, err) < 0)
                return -1;
        pf_arena scratch = { 0 };
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, a->name);
        const char *now = l && l->n_addrs ? pf_link_join(&scratch, (const char **) l->addrs, l->n_addrs) : NULL;
        const char *target = x->n_addrs ? pf_link_join(&scratch, decl_addrs(x, &scratch), x->n_addrs) : NULL;
        int r = pf_link_sync_list(k, ifindex, true, now, target, addr_change, a, err);
        pf_arena_free(&scratch);
        return r;
}

static int change_link(pf_kind_ctx *k, const pf_link_decl *x, const pf_action *a, char **err) {
        const pf_link_ops *ops = x->kind->link;
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, a->name);
        if (!l) {
                *err = pf_xasprintf("%s %s: the link disappeared since it was observed", pf_rkind_name(a->kind), a->name);
                return -1;
        }
        int ifindex = l->ifindex;
        bool mine = pf_link_owned(l);
        for (size_t i = 0; i < a->changes.n; i++)
                if (a->changes.v[i].landing == PF_LAND_RECREATE) {
                        /* the kernel cannot change this in place: delete and create again */
                        if (delete_link(k, x->kind, ifindex, a, err) < 0)
                                return -1;
                        return create_link(k, x, a, err);
                }
        unsigned mask = changed_mask(ops, a);
        if (ops->before_change && ops->before_change(k, x, ifindex, &mask, a, err) < 0)
                return -1;
        if (ops->data_apart && (mask & PF_LF_KIND_MASK) && (mask & ~PF_LF_KIND_MASK)) {
                struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
                put_linkinfo(k, msg, x, mask & PF_LF_KIND_MASK, 0);
                if (change(k, msg, "changing it in place", a, err) < 0)
                        return -1;
                mask &= ~PF_LF_KIND_MASK;
        }
        if (mask) {
                bool up = x->state == PF_LINK_UP;
                struct nl_msg *msg = pf_nl_link_msg(RTM_NEWLINK, 0, ifindex, (mask & PF_LF_STATE) && up ? IFF_UP : 0,
                                                    (mask & PF_LF_STATE) ? IFF_UP : 0);
                put_common(msg, x, mask);
                if (mask & PF_LF_KIND_MASK)
                        put_linkinfo(k, msg, x, mask, 0);
                if (change(k, msg, "changing it in place", a, err) < 0)
                        return -1;
        }
        if (ops->after_change && ops->after_change(k, x, ifindex, a, err) < 0)
                return -1;
        const pf_change *addrs = find_change(a, "addresses");
        if (!(mask & PF_LF_STATE))
                return addrs ? pf_link_sync_list(k, ifindex, true, addrs->old_value, addrs->new_value, addr_change, a, err) : 0;
        if (!addrs && !(ops->mask(k, x, !mine) & PF_LF_ADDRS))
                return 0;
        return resync_addrs(k, x, ifindex, a, err);
}

static int prune_link(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        if (self->link->before_delete && self->link->before_delete(k, a, err) < 0)
                return -1;
        const pf_nl_link *l = pf_nl_link_by_name(k->nl, a->name);
        if (!l)
                return 0;       /* gone already */
        return delete_link(k, self, l->ifindex, a, err);
}

int pf_link_apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        if (a->op == PF_OP_DELETE)
                return prune_link(self, k, a, err);
        pf_link_decl x;
        if (!find_decl(k, self, a->name, &x)) {
                *err = pf_xasprintf("%s %s: no declaration (internal error)", pf_rkind_name(a->kind), a->name);
                return -1;
        }
        return a->op == PF_OP_CREATE ? create_link(k, &x, a, err) : change_link(k, &x, a, err);
}

/* ---- show ---- */

static bool shows(const pf_link_show_key *keys, const char *key) {
        for (const pf_link_show_key *s = keys; s && s->key; s++)
                if (!strcmp(s->key, key))
                        return true;
        return false;
}

static void show_keys(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *live, pf_yaml_out *out) {
        pf_arena a = { 0 };
        for (const pf_link_show_key *s = self->link->show_keys; s->key; s++) {
                const pf_field *f = pf_obj_field(live, s->key);
                const char *value = self->link->show_value ? self->link->show_value(k, live, s->key, &a) : NULL;
                if (!value && f)
                        value = f->value;
                if (!value || (s->list && !*value))
                        continue;
                /* written all the same: the document then does not load, and is shown as comments */
                if (!strcmp(s->key, "parent") && !strcmp(value, PF_NL_PARENT_ELSEWHERE))
                        pf_yaml_comment(out, "parent: in another network namespace (IFLA_LINK_NETNSID); podform's "
                                        "format names a parent in this one");
                const char *takes = s->refused && !live->owned ? s->refused(value) : NULL;
                if (takes) {
                        pf_yaml_comment(out, "%s: %s (read from the host; podform's format takes %s: left out, and "
                                        "podform leaves it as it is)", s->key, value, takes);
                        continue;
                }
                if (!s->list) {
                        pf_yaml_scalar(out, s->key, s->type, value);
                        continue;
                }
                /* a list is its items joined by ", " (pf_link_join) */
                char *copy = pf_arena_strdup(&a, value);
                const char **parts = pf_arena_array(&a, strlen(copy) / 2 + 2, sizeof(*parts));
                size_t n = 0;
                for (char *save, *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save))
                        parts[n++] = item;
                pf_yaml_list(out, s->key, s->type, parts, n);
        }
        pf_arena_free(&a);
}

void pf_link_show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live, pf_yaml_out *out) {
        (void) have;
        pf_kind_show_head(self, live, out);
        pf_yaml_map(out, "spec");
        show_keys(self, k, live, out);
        /* never silently dropped: a field the format has no key for is said */
        for (size_t i = 0; i < live->fields.n; i++) {
                const pf_field *f = &live->fields.v[i];
                if (strcmp(f->key, "type") && !shows(self->link->show_keys, f->key))
                        pf_yaml_comment(out, "%s: %s (read from the host; podform's format has no key for it)",
                                        f->key, f->value);
        }
        pf_yaml_end(out);
}

/* ---- graph ---- */

static const char *graph_label(const pf_kind_ops *self, const pf_obj *o, pf_graph *g) {
        const char *label = pf_arena_printf(&g->arena, "%s %s", self->link->kernel_kind, o->name);
        for (const char *const *key = self->link->graph_keys; key && *key; key++) {
                const pf_field *f = pf_obj_field(o, *key);
                if (f && *f->value)
                        label = pf_arena_printf(&g->arena, "%s\n%s %s", label, *key, f->value);
        }
        return label;
}

/* An edge to a link named in a field, drawn as a plain NIC unless its own object draws it. */
static void edge_to_link(pf_graph *g, const char *from, const char *ifname, const char *label) {
        const char *to = pf_graph_id(g, "link", ifname);
        pf_graph_ref_add(g, PF_GR_NIC, to, ifname);
        pf_graph_edge_add(g, from, to, label, NULL);
}

void pf_link_graph(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g) {
        (void) k;
        const char *id = pf_graph_id(g, "link", o->name);
        pf_graph_node_add(g, PF_GR_LINK, id, graph_label(self, o, g));
        const pf_field *parent = pf_obj_field(o, "parent");
        if (parent && *parent->value)
                edge_to_link(g, id, parent->value, "parent");
        const pf_field *ports = pf_obj_field(o, "ports");
        const char *list = ports ? ports->value : NULL, *port;
        while ((port = pf_graph_next_item(g, &list)))
                edge_to_link(g, id, port, "port");
}
