/* attach_internal.h: what the files of the attachment rules share; resolve/attach.h is their
 * public face. One run of the rules carries an attach_ctx (attach.c) through them:
 *   ipam.c         addresses: usable spans of a Subnet, its free addresses
 *   rank.c         candidates of rules (c) and (d) and of constraints, their order and the
 *                  explanation of it (shared by the pod network and constraints)
 *   pod.c          the pod network
 *   constraints.c  interface constraints and their addresses
 *   boot.c         DHCP boot options
 * (podform.yaml(5), RESOLUTION, describes each) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "resolve/attach.h"
#include "util/xalloc.h"

/* ---- a growable list of strings in the arena ---- */

typedef struct strs {
        const char **v;
        size_t n, cap;
} strs;

/* Array v of n elements (capacity *cap) in the arena, with room for one more. */
void *attach_room(pf_arena *a, void *v, size_t n, size_t *cap, size_t size);
__attribute__((format(printf, 3, 4)))
void strs_add(pf_arena *a, strs *l, const char *fmt, ...);
const char *strs_join(pf_arena *a, const strs *l, const char *sep);

/* ---- the context of one run ---- */

/* A constraint address of the model, with its place in configuration order. */
typedef struct given {
        pf_ip ip;
        size_t order;
        const pf_vm *vm;
        const pf_vm_net *net;
} given;

typedef struct attach_ctx {
        const pf_model *m;
        const pf_host *host;
        const pf_attach_facts *f;
        pf_attach_result *r;
        pf_diags *d;
        pf_attachment *att;
        size_t n_att, cap_att;
        pf_bootp *bp;
        size_t n_bp, cap_bp;
        /* indexes, so that thousands of VMs resolve in linear-logarithmic time */
        uint64_t *free_of;              /* by Subnet index, once computed */
        bool *free_known;
        const pf_nic_fact **nics;       /* f->nics by VM and interface name */
        const pf_nic_fact **claims;     /* f->nics with an address, by address */
        size_t n_claims;
        struct given *given;            /* constraint addresses of the model, by address, then order */
        size_t n_given;
        const char **vm_names;          /* declared VMs, sorted; built when first needed */
        size_t n_vm_names;
        bool no_host;           /* pf_attach_check: no host facts, place nothing */
} attach_ctx;

/* A libvirt network as the rules see it. */
typedef struct net_view {
        const char *name;
        bool exists, declared, active, dhcp, managed;
        bool pruned;            /* podform's, no longer declared: this run deletes it */
        const char *bridge;
        const char *const *devs;
        size_t n_devs;
} net_view;

/* A new, zeroed attachment at the end of c's list. */
pf_attachment *attach_new(attach_ctx *c);
/* The path of l's file, or "?". */
const char *attach_src_path(pf_loc l);
/* Declared Network name: vm NULL: any (the model is scoped to one host); else one that can meet
 * vm on a host (podform validate sees a whole fleet). */
const pf_network *attach_declared_network(const pf_model *m, const pf_vm *vm, const char *name);
/* A network as it will be: declared (podform makes it so), else as libvirt has it. */
net_view attach_view_network(attach_ctx *c, const char *name);
/* The kind of host link ifname, and the bridge it is a port of; NULL when none. */
const char *attach_link_kind(attach_ctx *c, const char *ifname);
const char *attach_link_port_of(attach_ctx *c, const char *ifname);
/* Where the live domain has interface `iface` of `vm` now, if podform created it. */
const pf_nic_fact *attach_live_nic(attach_ctx *c, const char *vm, const char *iface);
/* Orders c->claims (pointers to pf_nic_fact) by address. */
int attach_claim_cmp(const void *a, const void *b);

/* ---- addresses (ipam.c) ---- */

bool ipam_dhcp_enabled(const pf_subnet *s);
/* 32 or 128. */
unsigned ipam_addr_bits(const pf_ip *ip);
/* The offset of ip in s (host bits), false when outside it. Only for host parts under 64 bits. */
bool ipam_offset_in(const pf_subnet *s, const pf_ip *ip, uint64_t *ret);
/* Whether n is a constraints network with an ip. */
bool ipam_vm_net_has_ip(const pf_vm_net *n);
/* pf_subnet_free(c->m, s), computed once per Subnet. */
uint64_t ipam_free(attach_ctx *c, const pf_subnet *s);
/* The first DHCP-enabled Subnet listing ifname, or NULL. */
const pf_subnet *ipam_dhcp_subnet_of(attach_ctx *c, const char *ifname);

/* ---- candidates of rules (c) and (d), and of constraints (rank.c) ---- */

typedef struct cand {
        const char *ifname;
        const pf_subnet *s;
        uint64_t free;
        int rank;               /* 0: a bridge (type='bridge'), 1: a macvtap (type='direct') */
} cand;

typedef struct cands {
        cand *v;                /* malloc'd */
        size_t n, cap;
} cands;

static inline void cands_freep(cands *l) { free(l->v); }
#define _cleanup_cands_ _cleanup_(cands_freep)

/* Rule (d)'s order, for qsort of a cands' v. */
int rank_cmp(const void *a, const void *b);
/* Adds x, or lets it speak for its interface when better than the one already there. */
void rank_add(cands *l, cand x);
/* How many candidates of sorted l share the first one's rank. */
size_t rank_same(const cands *l);
/* Whether the kernel can put a VM's macvtap on this link. */
bool rank_macvtap_parent(const char *ifname, const char *kind);
/* Why rule (d) put w before n2 (the next of its rank). */
const char *rank_d_phrase(const cand *w, const cand *n2);
/* A free-address count as a message says it (pf_subnet_free saturates). */
const char *rank_free_text(pf_arena *a, uint64_t n);
/* The candidate of the winning rank of sorted l the live domain already uses, or NULL. */
const cand *rank_kept(attach_ctx *c, const cands *l, const pf_vm *vm, const pf_iface *i);
/* Why each ranked candidate but `placed` was not taken, added to out; `c` prefixes rule (c)'s
 * reason on the pod network. */
void rank_explain(pf_arena *a, strs *out, const cands *l, const cand *placed, const char *c);

/* ---- the rules ---- */

/* The pod network of the host, decided when the first interface needs it (pod.c). */
typedef struct pod_decision {
        bool done, ok;
        pf_attach_rule rule;
        pf_target_kind target;
        const char *source;
        const pf_subnet *subnet;
        uint64_t free;
        bool by_d;
        const char *reason;
        strs passed_over;       /* shared by every interface it places */
        cands ranked;           /* rule (c) candidates, best first */
        const char *error;      /* why nothing qualifies */
        pf_loc first_error;
        bool reported;          /* the long error is out: the others point to it */
        size_t n_excluded;      /* passed_over: the excluded first, then the ranked */
} pod_decision;

/* Places pod interface i (bridge binding) of vm where p points. */
void pod_attach(attach_ctx *c, pod_decision *p, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n);
/* A pod interface with the slirp or masquerade binding: QEMU's user networking. */
void pod_attach_user(attach_ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n);
/* Checks and places constraints interface i of vm. */
void constraints_attach(attach_ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n);
/* Checks the boot options of i and records them on its Network; x is its attachment, if
 * the rules made one. */
void boot_options(attach_ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n, const pf_attachment *x);
