/* libvirt_kinds.h: the libvirt kinds' tables. */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_pool_kind, pf_volume_kind, pf_network_kind, pf_domain_kind;
