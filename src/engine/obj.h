/* obj.h: the engine's view of one host resource, whatever driver manages it.
 *
 * A resource is a kind, a name and a sorted list of fields: the values podform owns, each as a
 * canonical string under a stable key ("forward", "ip[172.16.99.1].dhcp.host[52:54:00:00:00:01]",
 * "iface[lab].source"). Drivers extract the same fields from the desired definition and from the
 * live one with one function, so both sides are normalised alike and the diff is a plain merge
 * of two sorted lists. Anything a driver does not extract (UUIDs, default controllers, addresses
 * libvirt assigned) is never compared. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "util/arena.h"
#include "util/diag.h"

/* Creation order; deletion runs the other way (kinds/kinds.c says why, kind by kind). Host links
 * come first, since libvirt networks and domains sit on them; VXLAN tunnels before bridges,
 * which take them as ports; bridges before macvlans and macvtaps, which may sit on a bridge. */
typedef enum pf_rkind {
        PF_R_VXLAN, PF_R_BRIDGE, PF_R_MACVLAN, PF_R_MACVTAP,    /* netlink */
        PF_R_POOL, PF_R_VOLUME, PF_R_NETWORK, PF_R_DOMAIN,      /* libvirt */
        PF_R_NAT,                                               /* nftables: a VM's NAT rules */
        _PF_R_MAX
} pf_rkind;

static inline bool pf_rkind_is_link(pf_rkind k) { return k <= PF_R_MACVTAP; }
/* The link kinds a configuration can declare, as errors name them (test_engine checks that every
 * link kind is in it). */
#define PF_LINK_KINDS_TEXT "Bridge, Macvtap, Macvlan or Vxlan"

/* How a change lands (spec section 5), least disruptive first. */
typedef enum pf_landing {
        PF_LAND_LIVE,           /* in place: hot-plug, virNetworkUpdate, an API call */
        PF_LAND_RESTART,        /* persistent definition; takes effect when the VM restarts */
        PF_LAND_RECREATE,       /* delete + create (a network restart): guests lose their link */
        _PF_LAND_MAX
} pf_landing;

enum {
        /* libvirt may fill it in unasked: a value only on the live side is not drift. */
        PF_FIELD_SPARSE = 1 << 0,
        /* a number that may only grow (volume capacity): a smaller desired value is a plan error */
        PF_FIELD_GROW_ONLY = 1 << 1,
        /* cannot change without losing data (volume format): any change is a plan error */
        PF_FIELD_IMMUTABLE = 1 << 2,
        /* part of a device group "iface[NAME]": adding or removing the whole group is a hot-plug
         * (live); changing a member of an existing group lands at restart */
        PF_FIELD_HOTPLUG = 1 << 3,
        /* "yes"/"no" whether it runs: turning it to "no" stops what uses it (marked !) */
        PF_FIELD_STOPS = 1 << 4,
        /* changes in place, but cuts off what uses the object until that restarts (a macvtap's
         * MAC: a running guest keeps the old one): marked ! while the object is in use */
        PF_FIELD_DISRUPTS = 1 << 5,
};

typedef struct pf_field {
        const char *key;
        const char *value;
        pf_landing landing;     /* how a change of this field lands on an active resource */
        unsigned flags;
} pf_field;

typedef struct pf_ref { pf_rkind kind; const char *name; } pf_ref;

typedef struct pf_obj {
        pf_rkind kind;
        const char *name;               /* volumes: "POOL/VOLUME" */
        PF_LIST(pf_field) fields;       /* sorted by key, keys unique */
        PF_LIST(pf_ref) needs;          /* must exist before this one, and outlive it */
        const char *xml;                /* desired: the definition to send (NULL where nothing sends it: a
                                         * domain none of whose fields differs from the live one's, a
                                         * volume that exists); live: the
                                         * persistent one (not held for a domain: apply reads it again) */
        const char *uuid;               /* live */
        bool active;                    /* live: running / active (a link: a running VM or an active
                                         * network uses it); desired: should be */
        bool owned;                     /* live: podform created it */
        bool stale;                     /* live: runs an older definition than its persistent one
                                         * (a change that lands at restart was applied) */
        uint64_t size;                  /* volumes: capacity in bytes (prune listings) */
        const char *note;               /* desired: said on its plan line (a default the host chose) */
        pf_loc loc;                     /* desired: where it was declared */
} pf_obj;

/* A set of objects of all kinds; memory belongs to `arena`. */
typedef struct pf_objset {
        pf_arena arena;
        PF_LIST(pf_obj) objs;
        size_t cap;
        size_t *index;          /* objs sorted by kind and name, once pf_objset_index() ran */
        size_t n_index;
} pf_objset;

void pf_objset_init(pf_objset *s);
void pf_objset_free(pf_objset *s);
/* pf_objset_add: a zeroed object appended to the set (pointers to earlier ones stay valid only
 * until the next add; use indexes while building). */
pf_obj *pf_objset_add(pf_objset *s, pf_rkind kind, const char *name);
/* pf_objset_find: O(log n) once pf_objset_index() ran after the last add, linear before. */
const pf_obj *pf_objset_find(const pf_objset *s, pf_rkind kind, const char *name);
void pf_objset_index(pf_objset *s);

/* Field builder: collect fields in any order, then pf_fields_finish() sorts them into the
 * object (duplicate keys: the last one wins, which extractors never rely on). */
typedef struct pf_fields {
        pf_field *v;
        size_t n, cap;
        pf_ref *needs;
        size_t n_needs, cap_needs;
        pf_arena *arena;
} pf_fields;

void pf_fields_init(pf_fields *b, pf_arena *arena);
void pf_field_add(pf_fields *b, pf_landing landing, unsigned flags, const char *value, const char *key_fmt, ...)
        __attribute__((format(printf, 5, 6)));
void pf_need_add(pf_fields *b, pf_rkind kind, const char *name);
/* pf_need_link: a need on the host link `ifname`, whatever its kind (links share one namespace,
 * and a NIC that is no resource matches none). */
void pf_need_link(pf_fields *b, const char *ifname);
/* pf_fields_finish: moves what was collected into o (arena memory) and resets the builder. */
void pf_fields_finish(pf_fields *b, pf_obj *o);
void pf_fields_free(pf_fields *b);

const pf_field *pf_obj_field(const pf_obj *o, const char *key);
const char *pf_rkind_name(pf_rkind k);          /* "vxlan", "bridge", "macvlan", "macvtap", "pool", "volume", "network", "vm", "nat" */
pf_rkind pf_rkind_lookup(const char *name);     /* the kind pf_rkind_name spells so, else _PF_R_MAX */
/* pf_objset_mark_used: a live link counts as active while an active object in s needs it, so a
 * change that recreates it is marked disruptive only then. s must be indexed. */
void pf_objset_mark_used(pf_objset *s);
const char *pf_landing_name(pf_landing l);      /* "live", "restart", "recreate" */
