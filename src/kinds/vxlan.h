/* vxlan.h: the Vxlan kind (a VXLAN tunnel link; spec section 2), usable as a Bridge port so
 * that KVM hosts share an L2 segment. */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_vxlan_kind;
