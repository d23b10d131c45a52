/* network.h: the Network kind (a libvirt network). */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_network_kind;

/* pf_network_facts: the live networks as the attachment rules see them (resolve/attach.h), in
 * have's arena; *n receives their number. The array is malloc'd. */
pf_net_fact *pf_network_facts(pf_objset *have, size_t *n);
