/* kind.h: a resource kind, as one table of operations. Each kind lives in one file of kinds/
 * (bridge.c, macvlan.c, vxlan.c, pool.c, volume.c, network.c, domain.c) and exports one
 * `const pf_kind_ops`; kinds.c lists them all, in creation order, and everything that needs
 * "every kind" (the stages in run/, the apply drivers, scoping) walks that list instead of
 * switching on a kind. The model is systemd-networkd's NetDevVTable: what differs per kind is
 * an entry; what is common is written once (kinds/link.c for the host links).
 *
 * The stages call the entries in this order (run/stages.c): observe (every kind) -> the
 * attachment rules -> desire (every kind) -> finish (every kind) -> check (every kind) ->
 * plan -> apply -> observe again to verify. The libvirt kinds' apply entries run on several
 * threads at once (engine/apply.h), each with a k of its own whose lv is a worker's connection
 * (pf_lv_worker): they change nothing in k but through k->lv. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "engine/obj.h"
#include "engine/plan.h"
#include "graph/graph.h"
#include "model/link_view.h"
#include "model/model.h"
#include "resolve/attach.h"
#include "util/yaml_out.h"

typedef struct pf_nl_host pf_nl_host;
typedef struct pf_lv_host pf_lv_host;
typedef struct pf_nft pf_nft;
typedef struct pf_masq pf_masq;
typedef struct pf_link_ops pf_link_ops;

/* What every stage of one run may read: the configuration scoped to this host, the Host
 * settings, the transports, and what earlier stages found. */
typedef struct pf_kind_ctx {
        const pf_model *model;          /* resources for other hosts filtered out */
        const pf_host *host;            /* effective Host settings */
        const char *host_name;
        bool prune;                     /* the plan deletes what podform owns and no longer declares */
        pf_nl_host *nl;                 /* transports */
        pf_lv_host *lv;
        pf_nft *nft;                    /* podform's nftables table (nft/nft.h) */
        pf_link_view links;             /* the host's links, declared else live (kinds/link.h) */
        pf_attach_result *attach;       /* where the rules put interfaces (after observe) */
        struct pf_link_names *link_names; /* declared links by name (pf_links_index, kinds/link.h) */
        pf_masq *masq;                  /* NICs on podform's NAT network: the domain kind's desire
                                         * collects them, the nat kind's gives them addresses */
} pf_kind_ctx;

/* Why a kind comes where it does in kinds.c: creation runs down this list, deletion up. */
typedef enum pf_order {
        PF_ORDER_LINK,                  /* a host link other links may be ports of (a VXLAN tunnel) */
        PF_ORDER_MASTER_LINK,           /* a host link with ports (a bridge) */
        PF_ORDER_STACKED_LINK,          /* a host link on a parent link, which may be a bridge */
        PF_ORDER_INDEPENDENT,           /* needs nothing else (a storage pool) */
        PF_ORDER_IN_POOL,               /* lives in a storage pool */
        PF_ORDER_NEEDS_LINKS,           /* sits on host links (a libvirt network) */
        PF_ORDER_NEEDS_ALL,             /* uses networks, volumes and links (a domain) */
        PF_ORDER_NEEDS_GUEST,           /* points at a domain's address (its port forwards) */
} pf_order;

enum {
        PF_KIND_LINK = 1 << 0,          /* a host link: netlink, one name space with the other links */
        PF_KIND_LIBVIRT = 1 << 1,       /* a libvirt object */
};

typedef struct pf_kind_ops pf_kind_ops;
/* Each entry gets its own table as `self`, so that one function can serve several kinds (the
 * host links' entries are kinds/link.c's). */
struct pf_kind_ops {
        pf_rkind rkind;                 /* its index in kinds.c, and the plan's kind */
        pf_kind model_kind;             /* the configuration's `kind:` (model/names.h spells it) */
        pf_order order;
        unsigned flags;                 /* PF_KIND_* */
        const pf_link_ops *link;        /* host links: what kinds/link.c asks of the kind */

        /* observe: every live object of the kind into `have`, its fields extracted as desire
         * extracts them. A transport failure: -1 with *err set. */
        int (*observe)(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err);
        /* desire: every declared object into `want`; errors of the configuration against
         * this host into d, positioned. `have` is complete and indexed. */
        void (*desire)(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d);
        /* finish: what needs both sides complete (a domain's live interface names come from
         * its desired definition). NULL: nothing. */
        void (*finish)(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, const pf_objset *want);
        /* check: host-side checks of declarations that name objects of other kinds. */
        void (*check)(const pf_kind_ops *self, pf_kind_ctx *k, const pf_objset *have, pf_diags *d);
        /* apply: one action of the plan; -1 with *err "KIND NAME: what failed: why". */
        int (*apply)(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err);

        /* show: a live object as one configuration document that, applied, changes nothing
         * (podform show); what the format cannot say goes into comments. NULL: the kind is not
         * shown yet. */
        void (*show)(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live, pf_yaml_out *out);

        /* graph: the object's node and edges in the host's topology (podform graph), drawn from
         * one side of the plan: the stage has called pf_graph_begin (graph/graph.h). What the
         * object names but does not draw (a parent NIC, a network) it adds with
         * pf_graph_ref_add, so every edge ends at a node. NULL: the kind is not drawn. */
        void (*graph)(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g);

        /* Entries the next releases fill in, one per kind instead of one more switch; NULL for
         * now, and the stages do not call them yet:
         *   checkpoint  save what a change would lose, and restore it (apply --try)
         *   watch       whether a host event concerns the kind (podform watch) */
        int (*checkpoint)(pf_kind_ctx *k, const pf_obj *live, void **saved, char **err);
        int (*restore)(pf_kind_ctx *k, void *saved, char **err);
        bool (*watch)(pf_kind_ctx *k, int event_source, const char *object_name);
};

/* kinds.c: every kind, indexed by pf_rkind, in creation order. */
extern const pf_kind_ops *const pf_kinds[_PF_R_MAX];
#define PF_EACH_KIND(ops) \
        for (const pf_kind_ops *const *ops##_it_ = pf_kinds, *ops; \
             ops##_it_ < pf_kinds + _PF_R_MAX && (ops = *ops##_it_, 1); ops##_it_++)

/* The kinds (bit 1 << rkind each) whose objects one of this kind may need, from the order
 * classes: apply creates them first (engine/apply.h); kinds outside it may be created beside
 * this one. */
unsigned pf_kind_needs(const pf_kind_ops *ops);

/* The kind's `kind:` as the configuration spells it ("Bridge"). */
const char *pf_kind_title(const pf_kind_ops *ops);
/* The head of a `podform show` document: whose the object is (a comment: applied, what podform
 * then does with it), apiVersion, kind and metadata; the caller writes `spec`. */
void pf_kind_show_head(const pf_kind_ops *ops, const pf_obj *live, pf_yaml_out *y);
/* A yes/no state field of a live object ("active", "autostart") as a YAML boolean. */
const char *pf_kind_show_bool(const pf_obj *live, const char *key);
