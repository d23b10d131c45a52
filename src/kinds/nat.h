/* nat.h: a VM's NAT rules in podform's nftables table, for the masquerade binding where libvirt
 * has no passt (kinds/nat.c). */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_nat_kind;
