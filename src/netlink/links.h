/* links.h: the netlink driver for host links (spec section 2: Bridge, Macvtap, Macvlan). With
 * libvirt/host.c, the only code that changes the host; it never shells out.
 *
 *   pf_nl_host *h = pf_nl_open(state_dir, read_only, &err);
 *   pf_nl_build(h, &env, want, have, diags, &err)   one link dump and one address dump
 *   plan (engine/plan.h), then apply with pf_nl_driver(h) for the link kinds
 *   pf_nl_save(h, &err); pf_nl_close(h);
 *
 * Ownership (spec section 4): links podform creates carry IFLA_IFALIAS "podform:<Kind>/<name>".
 * Ports podform enslaved are recorded in a state file under `state_dir` (a port is someone else's
 * NIC: podform does not write its alias), so that only those are ever released. */
#pragma once
#include <stdbool.h>

#include "engine/apply.h"
#include "engine/obj.h"
#include "model/link_view.h"
#include "model/model.h"

typedef struct pf_nl_host pf_nl_host;

/* pf_nl_open: a NETLINK_ROUTE socket in the caller's network namespace. `state_dir` NULL keeps
 * the record of enslaved ports in memory only. Otherwise the record is read from there and, unless
 * `read_only` (a plan), locked for the whole run, as the libvirt ownership record is. */
pf_nl_host *pf_nl_open(const char *state_dir, bool read_only, char **err);
void pf_nl_close(pf_nl_host *h);

typedef struct pf_nl_env {
        const pf_model *model;          /* resources for other hosts already filtered out */
        const pf_host *host;            /* effective Host settings (defaultMacvlanMode) */
} pf_nl_env;

/* pf_nl_build: observe every link into `have` (bridges, macvlans and macvtaps as objects) and
 * add every declared one to `want`; neither set is indexed here. Plan errors (a parent or port
 * that neither exists nor is declared, a name taken by someone else's link of another type) go
 * to d; a netlink failure returns -1 with *err set. */
int pf_nl_build(pf_nl_host *h, const pf_nl_env *env, pf_objset *want, pf_objset *have, pf_diags *d, char **err);

/* pf_nl_link_kind: the kind of link `ifname` as declared ("bridge", "macvlan", "macvtap"), else
 * as on the host ("veth", "device" for a NIC without one), NULL when neither, as of the last
 * pf_nl_build (pf_link_view.kind; `h` is a pf_nl_host). */
const char *pf_nl_link_kind(void *h, const char *ifname);
/* pf_nl_port_of: the bridge `ifname` is a port of (declared, else live and not one podform
 * enslaved and will release), NULL when none. Same timing and `h` as pf_nl_link_kind. */
const char *pf_nl_port_of(void *h, const char *ifname);

/* pf_nl_link_view: the two above as the view of host links the later stages read. */
pf_link_view pf_nl_link_view(pf_nl_host *h);

/* The apply side, for PF_R_BRIDGE, PF_R_MACVLAN and PF_R_MACVTAP. */
const pf_driver *pf_nl_driver(pf_nl_host *h);
/* Records the ports apply enslaved or released. */
int pf_nl_save(pf_nl_host *h, char **err);

/* Netlink messages that changed the host so far (a second apply must send none), and requests
 * sent of any kind, dumps included (each is one round trip). */
unsigned long pf_nl_mutations(const pf_nl_host *h);
unsigned long pf_nl_round_trips(const pf_nl_host *h);
