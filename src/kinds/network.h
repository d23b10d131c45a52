/* network.h: the Network kind (a libvirt network). */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_network_kind;

/* pf_network_facts: the live networks as the attachment rules see them (resolve/attach.h), in
 * have's arena; *n receives their number. The array is malloc'd. */
pf_net_fact *pf_network_facts(pf_objset *have, size_t *n);
/* pf_network_desire: a network no document declares (podform's own NAT network for the
 * masquerade binding, kinds/nat.c), desired as a declared one is. */
void pf_network_desire(pf_kind_ctx *k, pf_objset *have, pf_objset *want, const pf_network *n, pf_diags *d);
