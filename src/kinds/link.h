/* link.h: what the host-link kinds (Bridge, Macvlan, Macvtap, Vxlan) share, written once in
 * link.c: ownership by alias, the common fields, the checks, and creating, changing and deleting
 * a link over the netlink transport. A link kind's file gives one pf_link_ops: how to read its
 * declarations, its own fields on both sides, its IFLA_INFO_DATA, and the steps only it has.
 *
 * Ownership (spec section 4): links podform creates carry IFLA_IFALIAS "podform:<Kind>/<name>";
 * ports podform enslaved are in records/ports.h. */
#pragma once
#include <stdbool.h>

#include <netlink/msg.h>

#include "kinds/kind.h"
#include "netlink/rtnl.h"

/* What podform manages of a link: the common bits here, a kind's own from PF_LF_KIND up. */
enum {
        PF_LF_TYPE = 1 << 0, PF_LF_PARENT = 1 << 1, PF_LF_MTU = 1 << 2, PF_LF_MAC = 1 << 3,
        PF_LF_STATE = 1 << 4, PF_LF_ADDRS = 1 << 5,
        PF_LF_KIND = 1 << 8,            /* first bit of the kind's own (its IFLA_INFO_DATA) */
};
#define PF_LF_KIND_MASK (~(PF_LF_KIND - 1u))

/* A declaration, whatever its kind, as the common code reads it. */
typedef struct pf_link_decl {
        const pf_kind_ops *kind;
        const pf_meta *meta;
        const void *res;                /* the kind's own: pf_bridge, pf_macvlan, pf_vxlan */
        const char *parent;             /* the lower link it sits on, NULL when none */
        pf_loc parent_loc;
        const pf_mac *mac;              /* NULL: the kernel's */
        unsigned mtu;                   /* 0: the kernel's */
        pf_link_state state;
        const pf_cidr_item *addrs;
        size_t n_addrs;
} pf_link_decl;

/* A field as `podform show` writes it: its YAML type, and whether it is a list. `refused`, when
 * set, says what the format takes instead when the loader would refuse `value` (NULL when it
 * takes it); it is only for keys podform compares on someone else's link when they are declared:
 * there such a value is said in a comment and left out, which an apply leaves as it is (on
 * podform's own link the document is written wholly as comments instead, run/stages.c). */
typedef struct pf_link_show_key {
        const char *key;
        pf_yaml_type type;
        bool list;
        const char *(*refused)(const char *value);
} pf_link_show_key;

/* A field the kind changes in place, by key (the mask bit it sets for the change). */
typedef struct pf_link_key { const char *key; unsigned bit; } pf_link_key;

struct pf_link_ops {
        const char *kernel_kind;        /* IFLA_INFO_KIND, and the plan's kind name */
        size_t (*count)(const pf_model *m);
        const pf_meta *(*meta_at)(const pf_model *m, size_t i);
        void (*decl_at)(const pf_kind_ctx *k, size_t i, pf_link_decl *x);
        /* mask: what podform manages of x: all of it when podform created it (or will), only
         * what is declared of someone else's (`adopted`) */
        unsigned (*mask)(const pf_kind_ctx *k, const pf_link_decl *x, bool adopted);
        /* the kind's own fields, declared (x) and live (l; x NULL when undeclared) */
        void (*decl_fields)(const pf_kind_ctx *k, const pf_link_decl *x, unsigned mask, pf_fields *b);
        void (*live_fields)(const pf_kind_ctx *k, const pf_nl_link *l, const pf_link_decl *x, unsigned mask, pf_fields *b);
        const pf_link_key *keys;        /* its in-place keys, ending with { NULL } */
        bool mac_disrupts;              /* a running guest keeps its MAC: a change cuts it off */
        bool mtu_after_create;          /* the MTU is set once ports are in (a bridge takes theirs) */
        bool data_apart;                /* a change of its own fields goes alone: the kernel refuses
                                         * IFLA_MTU beside them (vxlan_changelink) */
        /* show: the keys of the kind's `spec`, in the order written, ending with { NULL } (a
         * live field not among them becomes a comment) */
        const pf_link_show_key *show_keys;
        /* show_value: what to write for `key` instead of the observed field (NULL: the field),
         * in arena memory; NULL itself when none */
        const char *(*show_value)(const pf_kind_ctx *k, const pf_obj *live, const char *key, pf_arena *a);
        /* graph: the fields its node's label shows, "key value" a line, ending with NULL */
        const char *const *graph_keys;

        /* checks of a declaration against the host, beyond the common ones (NULL: none) */
        void (*check)(const pf_kind_ctx *k, const pf_link_decl *x, pf_diags *d);
        /* adjust: a landing that depends on the old value too (NULL: none) */
        void (*adjust)(pf_obj *want, const pf_obj *have);
        /* put_data: IFLA_INFO_DATA's attributes for the bits of `mask` */
        void (*put_data)(const pf_kind_ctx *k, struct nl_msg *msg, const pf_link_decl *x, unsigned mask, int parent_ifindex);
        /* the parent is named in IFLA_INFO_DATA (a VXLAN's underlay), not in IFLA_LINK: then
         * live_parent reads it back */
        bool parent_in_data;
        const char *(*live_parent)(const pf_kind_ctx *k, const pf_nl_link *l);
        /* steps only the kind has; each -1 with *err on failure (NULL: none) */
        int (*after_create)(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, unsigned mask, const pf_action *a, char **err);
        int (*before_change)(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, unsigned *mask, const pf_action *a, char **err);
        int (*after_change)(pf_kind_ctx *k, const pf_link_decl *x, int ifindex, const pf_action *a, char **err);
        int (*before_delete)(pf_kind_ctx *k, const pf_action *a, char **err);
        void (*after_delete)(pf_kind_ctx *k, const pf_action *a);
};

/* The entries every link kind's pf_kind_ops points at. */
int pf_link_observe(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err);
void pf_link_desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d);
int pf_link_apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err);
void pf_link_show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live, pf_yaml_out *out);
/* graph: the link, edges to its parent and its ports (which need not be links podform knows:
 * a NIC) */
void pf_link_graph(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g);

/* pf_links_index: index the model's declared links by name, so that the lookups below, made
 * per live link and per port, take O(log n) (on 1,000 links a scan made a plan 3 times slower).
 * Call it once the context's model is set; pf_links_index_free releases it. */
void pf_links_index(pf_kind_ctx *k);
void pf_links_index_free(pf_kind_ctx *k);
/* The view of host links (model/link_view.h) over a context: declared, else as observed. */
pf_link_view pf_links_view(pf_kind_ctx *k);
const char *pf_links_kind(const pf_kind_ctx *k, const char *ifname);
const char *pf_links_port_of(const pf_kind_ctx *k, const char *ifname);
/* The declared or live link name nearest to ifname, for a "did you mean"; NULL when none is near. */
const char *pf_links_near(const pf_kind_ctx *k, const char *ifname);
/* The kind a link of that name is declared as, or NULL. */
const pf_kind_ops *pf_links_declared_kind(const pf_kind_ctx *k, const char *name);
/* The declared parent of a declared link of any kind, or NULL. */
const char *pf_links_declared_parent(const pf_kind_ctx *k, const char *name);
/* pf_link_owned: the link carries podform's alias for its name. */
bool pf_link_owned(const pf_nl_link *l);

/* Helpers for the kinds' own checks and steps. */
void pf_link_check_exists(const pf_kind_ctx *k, pf_diags *d, pf_loc at, const char *what, const char *ifname, const char *fix);
/* A sorted list, items separated by ", " (interface names never hold a space). */
const char *pf_link_join(pf_arena *a, const char **v, size_t n);
/* One list field from `old_value` to `new_value`, removals first; `item` adds or removes one.
 * For addresses (`addresses`), what to add is judged on the link as it is after the removals. */
typedef int (*pf_link_item_fn)(pf_kind_ctx *k, const char *link, int ifindex, const char *item, bool add,
                               const pf_action *a, char **err);
int pf_link_sync_list(pf_kind_ctx *k, int ifindex, bool addresses, const char *old_value, const char *new_value,
                      pf_link_item_fn item, const pf_action *a, char **err);
/* "KIND NAME" for error messages. */
const char *pf_link_subject(const pf_action *a, char *buf, size_t size);
