/* macvlan.h: the Macvlan and Macvtap kinds (links on a parent; spec section 2). One shape, two
 * tables: a Macvtap is a VM's device and takes the VM interface's MAC. */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_macvlan_kind, pf_macvtap_kind;
